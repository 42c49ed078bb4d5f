// KMS v2: the calls and response checks of kube-apiserver's v2 client.
//
// Fact sources: kubernetes/apiserver pkg/storage/value/encrypt/envelope/kmsv2/grpc_service.go
// (dial options, one deadline per RPC, request fields), kmsv2/envelope.go (Encrypt response
// checks: ciphertext size, key_id, annotations) and pkg/server/options/encryptionconfig/
// config.go (Status checks, Encrypt key_id == Status key_id, version must not change).
// Limits as documented there: key_id and ciphertext at most 1024 bytes, annotations at most
// 32 KiB in total, annotation keys fully qualified domain names.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	kmsv2 "k8s.io/kms/apis/v2"
)

const (
	keyIDMaxBytes       = 1024      // kube-apiserver KeyIDMaxSize
	ciphertextMaxBytes  = 1024      // kube-apiserver encryptedDEKSourceMaxSize
	annotationsMaxBytes = 32 * 1024 // kube-apiserver annotationsMaxSize
	fqdnMaxBytes        = 253
	dnsLabelMaxBytes    = 63
	statusHealthy       = "ok"
	v2Version, v2Beta1  = "v2", "v2beta1" // the StatusResponse.version values accepted since 1.29
	seedBytes           = 32              // kube-apiserver encrypts a 32-byte DEK seed
	unknownKeyID        = "no-such-key"
)

// v2client wraps the generated v2 stub. Like kube-apiserver, every RPC gets its own
// context.WithTimeout of the configured timeout, and each Encrypt/Decrypt a fresh uid.
type v2client struct {
	kms     kmsv2.KeyManagementServiceClient
	timeout time.Duration
}

func (c *v2client) status() (*kmsv2.StatusResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	resp, err := c.kms.Status(ctx, &kmsv2.StatusRequest{})
	if err != nil {
		return nil, rpcError("Status", err)
	}
	return resp, nil
}

// encrypt returns the raw gRPC error so callers can look at its code.
func (c *v2client) encrypt(plain []byte) (*kmsv2.EncryptResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	return c.kms.Encrypt(ctx, &kmsv2.EncryptRequest{Plaintext: plain, Uid: newUID()})
}

// decrypt returns the raw gRPC error so callers can look at its code.
func (c *v2client) decrypt(cipher []byte, keyID string, annotations map[string][]byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	resp, err := c.kms.Decrypt(ctx, &kmsv2.DecryptRequest{
		Ciphertext:  cipher,
		Uid:         newUID(),
		KeyId:       keyID,
		Annotations: annotations,
	})
	if err != nil {
		return nil, err
	}
	return resp.Plaintext, nil
}

// healthyStatus calls Status and applies the checks behind kube-apiserver's
// /healthz/kms-providers.
func (c *v2client) healthyStatus() (*kmsv2.StatusResponse, error) {
	s, err := c.status()
	if err != nil {
		return nil, err
	}
	if err := validateStatus(s); err != nil {
		return s, err
	}
	return s, nil
}

func validateStatus(s *kmsv2.StatusResponse) error {
	var errs []string
	if s.Healthz != statusHealthy {
		errs = append(errs, fmt.Sprintf("healthz is %q, want %q", s.Healthz, statusHealthy))
	}
	if s.Version != v2Version && s.Version != v2Beta1 {
		errs = append(errs, fmt.Sprintf("version is %q, want %q or %q", s.Version, v2Version, v2Beta1))
	}
	if err := validateKeyID(s.KeyId); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("Status: %s", strings.Join(errs, "; "))
	}
	return nil
}

func validateKeyID(id string) error {
	switch {
	case id == "":
		return errors.New("key_id is empty")
	case len(id) > keyIDMaxBytes:
		return fmt.Errorf("key_id is %d bytes, more than %d", len(id), keyIDMaxBytes)
	case !utf8.ValidString(id):
		return errors.New("key_id is not valid UTF-8")
	}
	return nil
}

// validateEncrypt applies the checks kube-apiserver makes on every EncryptResponse before
// it keeps the new DEK seed (the key_id == Status key_id check is the caller's).
func validateEncrypt(r *kmsv2.EncryptResponse) error {
	var errs []string
	if len(r.Ciphertext) == 0 {
		errs = append(errs, "ciphertext is empty")
	} else if len(r.Ciphertext) > ciphertextMaxBytes {
		errs = append(errs, fmt.Sprintf("ciphertext is %d bytes, more than %d", len(r.Ciphertext), ciphertextMaxBytes))
	}
	if err := validateKeyID(r.KeyId); err != nil {
		errs = append(errs, err.Error())
	}
	if err := validateAnnotations(r.Annotations); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("Encrypt: %s", strings.Join(errs, "; "))
	}
	return nil
}

func validateAnnotations(a map[string][]byte) error {
	var errs []string
	total := 0
	for _, k := range sortedKeys(a) {
		if err := checkFQDN(k); err != nil {
			errs = append(errs, fmt.Sprintf("annotation key %q: %v", k, err))
		}
		total += len(k) + len(a[k])
	}
	if total > annotationsMaxBytes {
		errs = append(errs, fmt.Sprintf("annotations total %d bytes, more than %d", total, annotationsMaxBytes))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// checkFQDN is the rule of Kubernetes' IsFullyQualifiedDomainName: after dropping one
// trailing dot, at most 253 bytes, at least two dot-separated labels, each a lowercase
// RFC 1123 label (1-63 of [a-z0-9-], starting and ending alphanumeric).
func checkFQDN(name string) error {
	if name == "" {
		return errors.New("empty")
	}
	name = strings.TrimSuffix(name, ".")
	if len(name) > fqdnMaxBytes {
		return fmt.Errorf("%d bytes, more than %d", len(name), fqdnMaxBytes)
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return errors.New("needs at least two dot-separated labels")
	}
	for _, l := range labels {
		if !isDNSLabel(l) {
			return fmt.Errorf("label %q is not a lowercase RFC 1123 label", l)
		}
	}
	return nil
}

func isDNSLabel(l string) bool {
	if len(l) == 0 || len(l) > dnsLabelMaxBytes {
		return false
	}
	for i := 0; i < len(l); i++ {
		ch := l[i]
		alnum := (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
		inner := ch == '-' && i > 0 && i < len(l)-1
		if !alnum && !inner {
			return false
		}
	}
	return true
}

func sortedKeys(a map[string][]byte) []string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// newUID is a random (version 4) UUID in its usual text form, as kube-apiserver sends.
func newUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// roundTrip is one Encrypt of a fresh seed and the Decrypt kube-apiserver later makes
// with the stored key_id and annotations; the plaintext must come back exactly.
func (c *v2client) roundTrip(plain []byte) (*kmsv2.EncryptResponse, error) {
	enc, err := c.encrypt(plain)
	if err != nil {
		return nil, rpcError("Encrypt", err)
	}
	if err := validateEncrypt(enc); err != nil {
		return enc, err
	}
	got, err := c.decrypt(enc.Ciphertext, enc.KeyId, enc.Annotations)
	if err != nil {
		return enc, rpcError("Decrypt", err)
	}
	if !bytes.Equal(got, plain) {
		return enc, fmt.Errorf("Decrypt: plaintext mismatch: sent %x, got %x", plain, got)
	}
	return enc, nil
}

func runV2(c *v2client, o options, authority string) error {
	switch o.mode {
	case "check":
		return runCheckV2(c, authority)
	case "load":
		probe := func() error { _, err := c.healthyStatus(); return err }
		rt := func() error { _, err := c.roundTrip(randomBytes(seedBytes)); return err }
		return runLoad(o, authority, probe, rt)
	case "bad":
		return runBadV2(c)
	case "status":
		return runStatusV2(c, o)
	case "encrypt":
		return runEncryptV2(c, o)
	case "decrypt":
		return runDecryptV2(c, o)
	default:
		return usageError("unknown -mode " + o.mode)
	}
}

// ---- -api v2 -mode check ----

func runCheckV2(c *v2client, authority string) error {
	fmt.Printf("authority: %q\n", authority)
	s1, err := c.healthyStatus()
	if s1 != nil {
		fmt.Printf("Status: version=%q healthz=%q key_id=%q\n", s1.Version, s1.Healthz, s1.KeyId)
	}
	if err != nil {
		return err
	}

	plain := randomBytes(seedBytes)
	enc, err := c.encrypt(plain)
	if err != nil {
		return rpcError("Encrypt", err)
	}
	fmt.Printf("Encrypt: ciphertext=%d bytes key_id=%q annotations=%s\n", len(enc.Ciphertext), enc.KeyId, describeAnnotations(enc.Annotations))
	if err := validateEncrypt(enc); err != nil {
		return err
	}
	// kube-apiserver drops the new DEK seed unless Encrypt names the key Status reported.
	if enc.KeyId != s1.KeyId {
		return fmt.Errorf("Encrypt: key_id %q differs from Status key_id %q", enc.KeyId, s1.KeyId)
	}

	got, err := c.decrypt(enc.Ciphertext, enc.KeyId, enc.Annotations)
	if err != nil {
		return rpcError("Decrypt", err)
	}
	if !bytes.Equal(got, plain) {
		return fmt.Errorf("Decrypt: plaintext mismatch: sent %x, got %x", plain, got)
	}
	fmt.Println("Decrypt with key_id and annotations: plaintext matches")

	s2, err := c.healthyStatus()
	if s2 != nil {
		fmt.Printf("Status again: version=%q healthz=%q key_id=%q\n", s2.Version, s2.Healthz, s2.KeyId)
	}
	if err != nil {
		return err
	}
	if s2.Version != s1.Version {
		return fmt.Errorf("Status: version changed from %q to %q", s1.Version, s2.Version)
	}
	fmt.Println("PASS")
	return nil
}

// describeAnnotations lists the keys with their value sizes, e.g. [a.example.com(1 B)].
func describeAnnotations(a map[string][]byte) string {
	parts := make([]string, 0, len(a))
	for _, k := range sortedKeys(a) {
		parts = append(parts, fmt.Sprintf("%s(%d B)", k, len(a[k])))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// ---- -api v2 -mode bad ----

// runBadV2 sends Decrypt requests kube-apiserver could make from a damaged or foreign
// etcd value, or after the plugin lost a key; each must be refused with the right code.
func runBadV2(c *v2client) error {
	s, err := c.healthyStatus()
	if err != nil {
		return err
	}
	enc, err := c.roundTrip(randomBytes(seedBytes)) // the cases below are only meaningful if this works
	if err != nil {
		return fmt.Errorf("round trip of an untouched ciphertext: %w", err)
	}
	flipped := append([]byte(nil), enc.Ciphertext...)
	flipped[len(flipped)-1] ^= 0x01 // last byte: inside the AEAD tag in any usual layout

	invalidArg := []codes.Code{codes.InvalidArgument}
	foreignKey := []codes.Code{codes.FailedPrecondition, codes.InvalidArgument}
	cases := []struct {
		name        string
		cipher      []byte
		keyID       string
		annotations map[string][]byte
		want        []codes.Code
	}{
		{"random 100 bytes, current key_id", randomBytes(100), s.KeyId, nil, invalidArg},
		{"valid ciphertext, last bit flipped", flipped, enc.KeyId, enc.Annotations, invalidArg},
		{"valid ciphertext, key_id " + unknownKeyID, enc.Ciphertext, unknownKeyID, enc.Annotations, foreignKey},
		{"valid ciphertext, Status key_id + \"x\"", enc.Ciphertext, s.KeyId + "x", enc.Annotations, foreignKey},
		{"empty ciphertext, current key_id", []byte{}, enc.KeyId, enc.Annotations, invalidArg},
	}
	failed := 0
	for _, tc := range cases {
		_, err := c.decrypt(tc.cipher, tc.keyID, tc.annotations)
		want := codeNames(tc.want)
		st, _ := status.FromError(err)
		switch {
		case err == nil:
			failed++
			fmt.Fprintf(os.Stderr, "bad: %s: Decrypt succeeded, want code=%s\n", tc.name, want)
		case !containsCode(tc.want, st.Code()):
			failed++
			fmt.Fprintf(os.Stderr, "bad: %s: code=%s desc=%q, want code=%s\n", tc.name, st.Code(), st.Message(), want)
		default:
			fmt.Printf("bad: %s: code=%s desc=%q: ok\n", tc.name, st.Code(), st.Message())
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d bad Decrypt requests were not refused with the expected code", failed, len(cases))
	}
	fmt.Println("PASS")
	return nil
}

func containsCode(list []codes.Code, c codes.Code) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

func codeNames(list []codes.Code) string {
	names := make([]string, len(list))
	for i, c := range list {
		names[i] = c.String()
	}
	return strings.Join(names, " or ")
}

// ---- -api v2 -mode status | encrypt | decrypt (building blocks for the C# tests) ----

type statusJSON struct {
	Version string `json:"version"`
	Healthz string `json:"healthz"`
	KeyID   string `json:"key_id"`
}

// runStatusV2 prints one Status response. An unhealthy or invalid answer is still exit 0
// (the tests watch key_id and healthz through rotations); only an RPC error is exit 1.
func runStatusV2(c *v2client, o options) error {
	s, err := c.status()
	if err != nil {
		return err
	}
	if o.jsonOut {
		return printJSON(statusJSON{Version: s.Version, Healthz: s.Healthz, KeyID: s.KeyId})
	}
	fmt.Printf("Status: version=%q healthz=%q key_id=%q\n", s.Version, s.Healthz, s.KeyId)
	if err := validateStatus(s); err != nil {
		fmt.Printf("kube-apiserver would report unhealthy: %v\n", err)
	}
	return nil
}

type encryptJSON struct {
	PlaintextHex  string            `json:"plaintext_hex"`
	CiphertextB64 string            `json:"ciphertext_b64"`
	KeyID         string            `json:"key_id"`
	Annotations   map[string][]byte `json:"annotations"` // encoding/json writes []byte as standard base64
}

// runEncryptV2 makes one Encrypt and prints the response. If the response breaks a rule
// kube-apiserver enforces, it is still printed, but the exit code is 1.
func runEncryptV2(c *v2client, o options) error {
	plain := randomBytes(seedBytes)
	if o.plaintextHex != "" {
		p, err := hex.DecodeString(o.plaintextHex)
		if err != nil {
			return usageError("invalid -plaintext-hex: " + err.Error())
		}
		plain = p
	}
	enc, err := c.encrypt(plain)
	if err != nil {
		return rpcError("Encrypt", err)
	}
	ann := enc.Annotations
	if ann == nil {
		ann = map[string][]byte{}
	}
	if o.jsonOut {
		err = printJSON(encryptJSON{
			PlaintextHex:  hex.EncodeToString(plain),
			CiphertextB64: base64.StdEncoding.EncodeToString(enc.Ciphertext),
			KeyID:         enc.KeyId,
			Annotations:   ann,
		})
		if err != nil {
			return err
		}
	} else {
		fmt.Printf("Encrypt: plaintext=%x ciphertext=%s key_id=%q annotations=%s\n",
			plain, base64.StdEncoding.EncodeToString(enc.Ciphertext), enc.KeyId, describeAnnotations(ann))
	}
	return validateEncrypt(enc)
}

type decryptJSON struct {
	PlaintextHex string `json:"plaintext_hex"`
}

func runDecryptV2(c *v2client, o options) error {
	cipher, err := base64.StdEncoding.DecodeString(o.ciphertextB64)
	if err != nil {
		return usageError("invalid -ciphertext-b64: " + err.Error())
	}
	var ann map[string][]byte
	if o.annotationsJSON != "" {
		if err := json.Unmarshal([]byte(o.annotationsJSON), &ann); err != nil {
			return usageError("invalid -annotations-json (want {\"key\":\"base64\",...}): " + err.Error())
		}
	}
	plain, err := c.decrypt(cipher, o.keyID, ann)
	if err != nil {
		return rpcError("Decrypt", err)
	}
	if o.jsonOut {
		return printJSON(decryptJSON{PlaintextHex: hex.EncodeToString(plain)})
	}
	fmt.Printf("Decrypt: plaintext=%x\n", plain)
	return nil
}

func printJSON(v interface{}) error {
	out, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
