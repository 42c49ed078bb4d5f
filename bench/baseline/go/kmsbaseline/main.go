// Command kms-baseline is the baseline the load generator measures kms-plugin against: a
// minimal KMS v1 (v1beta1) and v2 server on the same protos, on grpc-go as Debian ships it
// (the stack the Go KMS plugins stand on), sealing with one in-memory AES-256-GCM key and a
// fresh random nonce per call. No envelope, no key ring, no DEK cache: the floor for "gRPC
// over a unix socket plus one AES-GCM seal".
//
// Built by scripts/build-go-baseline.sh (GOPATH mode, Debian's grpc-go 1.33). Not a plugin to
// deploy: its key dies with the process.
package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	kmsapi "k8s.io/kms/apis/v1beta1"
	kmsv2 "k8s.io/kms/apis/v2"
)

const keyID = "baseline-key-1"

func main() {
	socket := flag.String("socket", "", "unix socket to listen on (required; a stale socket is removed)")
	flag.Parse()
	if *socket == "" {
		fmt.Fprintln(os.Stderr, "kms-baseline: -socket is required")
		os.Exit(2)
	}
	if err := run(*socket); err != nil {
		fmt.Fprintln(os.Stderr, "kms-baseline:", err)
		os.Exit(1)
	}
}

func run(socket string) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block) // cipher.AEAD from NewGCM is safe for concurrent use
	if err != nil {
		return err
	}
	s := &sealer{aead: aead}

	if fi, err := os.Lstat(socket); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(socket)
	}
	lis, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	srv := grpc.NewServer()
	kmsapi.RegisterKeyManagementServiceServer(srv, &v1server{s: s})
	kmsv2.RegisterKeyManagementServiceServer(srv, &v2server{s: s})

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		srv.GracefulStop()
	}()
	err = srv.Serve(lis)
	_ = os.Remove(socket)
	return err
}

// sealer: ciphertext = nonce (12) | AES-GCM(plaintext) | tag (16).
type sealer struct{ aead cipher.AEAD }

func (s *sealer) seal(plain []byte) ([]byte, error) {
	out := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, status.Error(codes.Internal, "no randomness")
	}
	return s.aead.Seal(out, out, plain, nil), nil
}

func (s *sealer) open(ct []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(ct) < n+s.aead.Overhead() {
		return nil, status.Error(codes.InvalidArgument, "ciphertext too short")
	}
	plain, err := s.aead.Open(nil, ct[:n], ct[n:], nil)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "ciphertext rejected")
	}
	return plain, nil
}

type v1server struct {
	kmsapi.UnimplementedKeyManagementServiceServer
	s *sealer
}

func (v *v1server) Version(context.Context, *kmsapi.VersionRequest) (*kmsapi.VersionResponse, error) {
	return &kmsapi.VersionResponse{Version: "v1beta1", RuntimeName: "kms-baseline", RuntimeVersion: "0.1.0"}, nil
}

func (v *v1server) Encrypt(_ context.Context, r *kmsapi.EncryptRequest) (*kmsapi.EncryptResponse, error) {
	ct, err := v.s.seal(r.Plain)
	if err != nil {
		return nil, err
	}
	return &kmsapi.EncryptResponse{Cipher: ct}, nil
}

func (v *v1server) Decrypt(_ context.Context, r *kmsapi.DecryptRequest) (*kmsapi.DecryptResponse, error) {
	plain, err := v.s.open(r.Cipher)
	if err != nil {
		return nil, err
	}
	return &kmsapi.DecryptResponse{Plain: plain}, nil
}

type v2server struct {
	kmsv2.UnimplementedKeyManagementServiceServer
	s *sealer
}

func (v *v2server) Status(context.Context, *kmsv2.StatusRequest) (*kmsv2.StatusResponse, error) {
	return &kmsv2.StatusResponse{Version: "v2", Healthz: "ok", KeyId: keyID}, nil
}

func (v *v2server) Encrypt(_ context.Context, r *kmsv2.EncryptRequest) (*kmsv2.EncryptResponse, error) {
	ct, err := v.s.seal(r.Plaintext)
	if err != nil {
		return nil, err
	}
	return &kmsv2.EncryptResponse{Ciphertext: ct, KeyId: keyID}, nil
}

func (v *v2server) Decrypt(_ context.Context, r *kmsv2.DecryptRequest) (*kmsv2.DecryptResponse, error) {
	if r.KeyId != keyID {
		return nil, status.Errorf(codes.FailedPrecondition, "unknown key_id")
	}
	plain, err := v.s.open(r.Ciphertext)
	if err != nil {
		return nil, err
	}
	return &kmsv2.DecryptResponse{Plaintext: plain}, nil
}
