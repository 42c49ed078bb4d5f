// Command kms-goclient is a KMS v1 (v1beta1) and KMS v2 gRPC client that dials the
// plugin's unix socket the same way kube-apiserver's envelope clients do, so the C# tests
// can prove the plugin works with the real client stack (grpc-go), not only with
// Grpc.Net.Client. The v2 half is in v2.go.
//
// Fact sources for the dial and call behaviour mirrored here:
// kubernetes/apiserver pkg/storage/value/encrypt/envelope/grpc_service.go (v1) and
// pkg/storage/value/encrypt/envelope/kmsv2/grpc_service.go (v2).
//
// Built by scripts/build-go-client.sh (GOPATH mode, Debian's grpc-go 1.33).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	kmsapi "k8s.io/kms/apis/v1beta1"
	kmsv2 "k8s.io/kms/apis/v2"
)

// apiVersion is what kube-apiserver puts in every v1 request and requires back from Version.
const apiVersion = "v1beta1"

type options struct {
	api         string
	socket      string
	authority   string
	mode        string
	timeout     time.Duration
	concurrency int
	duration    time.Duration
	calls       int
	jsonOut     bool

	// v2 encrypt/decrypt modes
	plaintextHex    string
	ciphertextB64   string
	keyID           string
	annotationsJSON string

	// coldstart modes
	file string
}

func main() {
	var o options
	flag.StringVar(&o.api, "api", "v1", "KMS API: v1 (package v1beta1) or v2 (package v2)")
	flag.StringVar(&o.socket, "socket", "", "plugin socket: a path, @abstract, or unix:///path (required)")
	flag.StringVar(&o.authority, "authority", "", "which `mode` of :authority to send: raw (grpc-go 1.33 default = socket path, like kube-apiserver v1 and v2 before 1.32), percent (path with every '/' as %2F, like newer grpc-go), localhost (like kube-apiserver v2 >= 1.32); default raw for -api v1, localhost for -api v2")
	flag.StringVar(&o.mode, "mode", "check", "check | load | bad; with -api v1 also coldstart-encrypt | coldstart-decrypt; with -api v2 also status | encrypt | decrypt")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Second, "per-RPC deadline (kube-apiserver's default KMS timeout is 3s)")
	flag.IntVar(&o.concurrency, "concurrency", 4, "load: number of concurrent workers")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "load: how long to run (ignored if -calls > 0)")
	flag.IntVar(&o.calls, "calls", 0, "load: total Encrypt+Decrypt round trips to make (0 = use -duration)")
	flag.BoolVar(&o.jsonOut, "json", false, "load, status, encrypt, decrypt: print one JSON object on stdout")
	flag.StringVar(&o.plaintextHex, "plaintext-hex", "", "v2 encrypt: plaintext as hex (default: 32 random bytes)")
	flag.StringVar(&o.ciphertextB64, "ciphertext-b64", "", "v2 decrypt: ciphertext as standard base64 (empty: an empty ciphertext)")
	flag.StringVar(&o.keyID, "key-id", "", "v2 decrypt: key_id to send")
	flag.StringVar(&o.annotationsJSON, "annotations-json", "", "v2 decrypt: annotations as a JSON object of key -> standard base64 value, as -mode encrypt prints them")
	flag.StringVar(&o.file, "file", "", "coldstart-encrypt/-decrypt (v1): file of plaintext and ciphertext pairs")
	flag.Parse()

	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "kms-goclient: FAIL:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.socket == "" {
		return usageError("-socket is required")
	}
	addr, err := socketAddr(o.socket)
	if err != nil {
		return usageError(err.Error())
	}
	switch o.api {
	case "v1":
		if o.authority == "" {
			o.authority = "raw"
		}
	case "v2":
		if o.authority == "" {
			o.authority = "localhost" // what current kube-apiserver (>= 1.32) sends
		}
	default:
		return usageError("unknown -api " + o.api + " (v1|v2)")
	}
	if o.concurrency < 1 {
		return usageError("-concurrency must be >= 1")
	}
	authority, dialOpts, err := authorityOption(o.authority, addr)
	if err != nil {
		return usageError(err.Error())
	}

	conn, err := dial(addr, dialOpts...)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()

	if o.api == "v2" {
		return runV2(&v2client{kms: kmsv2.NewKeyManagementServiceClient(conn), timeout: o.timeout}, o, authority)
	}
	c := &client{kms: kmsapi.NewKeyManagementServiceClient(conn), timeout: o.timeout}
	switch o.mode {
	case "check":
		return runCheck(c, authority)
	case "load":
		return runLoad(o, authority, c.version, func() error { return c.roundTrip(randomBytes(32)) })
	case "bad":
		return runBad(c)
	case "coldstart-encrypt", "coldstart-decrypt":
		return runColdStart(c, o, o.file)
	case "status", "encrypt", "decrypt":
		return usageError("-mode " + o.mode + " needs -api v2")
	default:
		return usageError("unknown -mode " + o.mode)
	}
}

func usageError(msg string) error {
	fmt.Fprintln(os.Stderr, "kms-goclient:", msg)
	flag.Usage()
	os.Exit(2)
	return errors.New(msg) // unreachable
}

// socketAddr accepts the unix socket as kube-apiserver's config spells it
// (unix:///abs/path.sock, unix:///@abstract) or as the bare path. kube-apiserver
// parses the endpoint URL and dials its path (kubernetes/kms pkg/util/util.go).
func socketAddr(s string) (string, error) {
	if !strings.Contains(s, "://") {
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("invalid -socket %q: %v", s, err)
	}
	if u.Scheme != "unix" {
		return "", fmt.Errorf("invalid -socket %q: scheme must be unix", s)
	}
	p := u.Path
	if strings.HasPrefix(p, "/@") {
		p = p[1:] // unix:///@name is the Linux abstract socket @name
	}
	return p, nil
}

// authorityOption returns the :authority the connection will send and the dial option
// (if any) that makes it so.
func authorityOption(mode, addr string) (string, []grpc.DialOption, error) {
	switch mode {
	case "raw":
		// kube-apiserver's v1 client sets no authority, nor does its v2 client before 1.32
		// (tags 1.29.x-1.31.x). In grpc-go 1.33.3 (Debian's
		// /usr/share/gocode/src/google.golang.org/grpc) clientconn.go DialContext parses the
		// target with internal/grpcutil.ParseTarget; a bare path has no "://", so no resolver
		// matches, the target falls back to the "passthrough" scheme with Endpoint = the
		// whole target, and cc.authority = cc.parsedTarget.Endpoint (no WithAuthority, no
		// creds ServerName, target not prefixed "unix:"). stream.go sends it as
		// callHdr.Host, which internal/transport/http2_client.go writes as ":authority".
		// So the header is the socket path itself, e.g. "/var/run/kms.sock".
		return addr, nil, nil
	case "percent":
		// Newer grpc-go percent-encodes the default authority, so a kube-apiserver built on
		// one that sets no WithAuthority may send this form instead of the raw path.
		// url.PathEscape turns every '/' into %2F ("/var/run/kms.sock" -> "%2Fvar%2Frun%2Fkms.sock").
		a := url.PathEscape(addr)
		return a, []grpc.DialOption{grpc.WithAuthority(a)}, nil
	case "localhost":
		// kube-apiserver's v2 client since 1.32 (kmsv2/grpc_service.go) sends "localhost".
		return "localhost", []grpc.DialOption{grpc.WithAuthority("localhost")}, nil
	default:
		return "", nil, fmt.Errorf("unknown -authority %q (raw|percent|localhost)", mode)
	}
}

// dial mirrors kube-apiserver's v1 client (envelope/grpc_service.go NewGRPCService):
// the raw socket path as target, insecure (plaintext h2c), WaitForReady(true) on every
// call (so a missing socket makes calls block until their deadline rather than fail
// fast), and a context dialer that dials the target string as a "unix" address.
// grpc.Dial is non-blocking, exactly as there.
func dial(addr string, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{
		grpc.WithInsecure(),
		grpc.WithDefaultCallOptions(grpc.WaitForReady(true)),
		grpc.WithContextDialer(func(ctx context.Context, target string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", target)
		}),
	}
	return grpc.Dial(addr, append(opts, extra...)...)
}

// client wraps the generated stub; every RPC gets its own deadline, as kube-apiserver
// gives each call context.WithTimeout(ctx, timeout) with the configured KMS timeout.
type client struct {
	kms     kmsapi.KeyManagementServiceClient
	timeout time.Duration
}

func (c *client) version() error {
	_, err := c.versionResponse()
	return err
}

func (c *client) versionResponse() (*kmsapi.VersionResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	resp, err := c.kms.Version(ctx, &kmsapi.VersionRequest{Version: apiVersion})
	if err != nil {
		return nil, rpcError("Version", err)
	}
	// The only field kube-apiserver checks.
	if resp.Version != apiVersion {
		return nil, fmt.Errorf("Version: KMS provider api version %q is not supported, only %s is supported", resp.Version, apiVersion)
	}
	return resp, nil
}

func (c *client) encrypt(plain []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	resp, err := c.kms.Encrypt(ctx, &kmsapi.EncryptRequest{Version: apiVersion, Plain: plain})
	if err != nil {
		return nil, rpcError("Encrypt", err)
	}
	return resp.Cipher, nil
}

func (c *client) decryptRaw(cipher []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	resp, err := c.kms.Decrypt(ctx, &kmsapi.DecryptRequest{Version: apiVersion, Cipher: cipher})
	if err != nil {
		return nil, err
	}
	return resp.Plain, nil
}

// roundTrip is what one encrypted write+read costs kube-apiserver's v1 envelope:
// Encrypt of the DEK, later Decrypt of the stored ciphertext, which must match exactly.
func (c *client) roundTrip(plain []byte) error {
	cipher, err := c.encrypt(plain)
	if err != nil {
		return err
	}
	if len(cipher) == 0 {
		return errors.New("Encrypt: empty cipher")
	}
	if len(cipher) > 65535 { // kube-apiserver stores the encrypted DEK length as uint16
		return fmt.Errorf("Encrypt: cipher is %d bytes, more than 65535", len(cipher))
	}
	got, err := c.decryptRaw(cipher)
	if err != nil {
		return rpcError("Decrypt", err)
	}
	if !bytes.Equal(got, plain) {
		return fmt.Errorf("Decrypt: plaintext mismatch: sent %x, got %x", plain, got)
	}
	return nil
}

func rpcError(rpc string, err error) error {
	st, _ := status.FromError(err)
	return fmt.Errorf("%s: code=%s desc=%q", rpc, st.Code(), st.Message())
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// ---- -mode check ----

func runCheck(c *client, authority string) error {
	fmt.Printf("authority: %q\n", authority)
	v, err := c.versionResponse()
	if err != nil {
		return err
	}
	fmt.Printf("Version: version=%q runtime_name=%q runtime_version=%q\n", v.Version, v.RuntimeName, v.RuntimeVersion)

	if err := c.roundTrip(randomBytes(32)); err != nil {
		return err
	}
	fmt.Println("Encrypt/Decrypt of a random 32-byte DEK: ok")

	// kube-apiserver's KMS v1 health check (kms-provider healthz) round-trips "ping".
	if err := c.roundTrip([]byte("ping")); err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	fmt.Println("Encrypt/Decrypt of \"ping\" (health check): ok")
	fmt.Println("PASS")
	return nil
}

// ---- -mode load ----

type loadResult struct {
	API             string  `json:"api"`              // -api: v1|v2
	Authority       string  `json:"authority"`        // -authority mode: raw|percent|localhost
	AuthorityHeader string  `json:"authority_header"` // the :authority value actually sent
	Concurrency     int     `json:"concurrency"`
	Calls           int64   `json:"calls"` // round trips attempted (Encrypt+Decrypt), incl. failed; 0 if Version/Status failed
	Seconds         float64 `json:"seconds"`
	CallsPerSecond  float64 `json:"calls_per_second"` // successful round trips per second
	P50Ms           float64 `json:"p50_ms"`           // over successful round trips
	P99Ms           float64 `json:"p99_ms"`
	Errors          int64   `json:"errors"`
	FirstError      string  `json:"first_error,omitempty"`
}

// runLoad runs probe once (v1 Version, v2 Status: what kube-apiserver requires before it
// uses the plugin), then -concurrency workers that each loop roundTrip.
func runLoad(o options, authority string, probe func() error, roundTrip func() error) error {
	if err := probe(); err != nil {
		// Still emit the result object so a caller parsing -json sees why nothing ran.
		return reportLoad(o, loadResult{API: o.api, Authority: o.authority, AuthorityHeader: authority,
			Concurrency: o.concurrency, Errors: 1, FirstError: err.Error()})
	}

	var (
		remaining = int64(o.calls)
		calls     int64
		errCount  int64
		firstErr  atomic.Value
		deadline  = time.Now().Add(o.duration)
		useCalls  = o.calls > 0
		latencies = make([][]time.Duration, o.concurrency)
		wg        sync.WaitGroup
	)
	start := time.Now()
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				if useCalls {
					if atomic.AddInt64(&remaining, -1) < 0 {
						return
					}
				} else if !time.Now().Before(deadline) {
					return
				}
				t0 := time.Now()
				err := roundTrip()
				d := time.Since(t0)
				atomic.AddInt64(&calls, 1)
				if err != nil {
					atomic.AddInt64(&errCount, 1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				latencies[w] = append(latencies[w], d)
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()

	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })

	r := loadResult{
		API:             o.api,
		Authority:       o.authority,
		AuthorityHeader: authority,
		Concurrency:     o.concurrency,
		Calls:           calls,
		Seconds:         round3(elapsed),
		P50Ms:           percentileMs(all, 0.50),
		P99Ms:           percentileMs(all, 0.99),
		Errors:          errCount,
	}
	if elapsed > 0 {
		r.CallsPerSecond = round3(float64(len(all)) / elapsed)
	}
	if s, ok := firstErr.Load().(string); ok {
		r.FirstError = s
	}
	return reportLoad(o, r)
}

func reportLoad(o options, r loadResult) error {
	if o.jsonOut {
		out, _ := json.Marshal(r)
		fmt.Println(string(out))
	} else {
		fmt.Printf("api=%s authority=%s (%q) concurrency=%d round_trips=%d seconds=%.3f round_trips/s=%.1f p50=%.3fms p99=%.3fms errors=%d\n",
			r.API, r.Authority, r.AuthorityHeader, r.Concurrency, r.Calls, r.Seconds, r.CallsPerSecond, r.P50Ms, r.P99Ms, r.Errors)
	}
	if r.Calls == 0 && r.Errors > 0 {
		return errors.New(r.FirstError)
	}
	if r.Errors > 0 {
		return fmt.Errorf("%d of %d round trips failed; first: %s", r.Errors, r.Calls, r.FirstError)
	}
	return nil
}

// percentileMs is the nearest-rank percentile of sorted durations, in milliseconds.
func percentileMs(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p*float64(len(sorted))+0.999999999) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(sorted) {
		rank = len(sorted) - 1
	}
	return round3(float64(sorted[rank].Nanoseconds()) / 1e6)
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// ---- -mode bad ----

// runBad sends ciphertexts kube-apiserver could read back from a damaged or foreign etcd
// value; the plugin must reject each with InvalidArgument (not crash, hang, or return data).
func runBad(c *client) error {
	if err := c.version(); err != nil {
		return err
	}
	valid, err := c.encrypt(randomBytes(32))
	if err != nil {
		return err
	}
	if _, err := c.decryptRaw(valid); err != nil { // the flipped case is only meaningful if this works
		return rpcError("Decrypt of an untouched ciphertext", err)
	}
	flipped := append([]byte(nil), valid...)
	flipped[len(flipped)-1] ^= 0x01 // last byte: inside the AEAD tag in any usual layout

	cases := []struct {
		name   string
		cipher []byte
	}{
		{"empty", []byte{}},
		{"random 100 bytes", randomBytes(100)},
		{"valid ciphertext, last bit flipped", flipped},
	}
	failed := 0
	for _, tc := range cases {
		_, err := c.decryptRaw(tc.cipher)
		switch {
		case err == nil:
			failed++
			fmt.Fprintf(os.Stderr, "bad: %s: Decrypt succeeded, want code=InvalidArgument\n", tc.name)
		case status.Code(err) != codes.InvalidArgument:
			failed++
			st, _ := status.FromError(err)
			fmt.Fprintf(os.Stderr, "bad: %s: code=%s desc=%q, want code=InvalidArgument\n", tc.name, st.Code(), st.Message())
		default:
			fmt.Printf("bad: %s: code=InvalidArgument desc=%q: ok\n", tc.name, status.Convert(err).Message())
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d malformed ciphertexts were not rejected with InvalidArgument", failed, len(cases))
	}
	fmt.Println("PASS")
	return nil
}
