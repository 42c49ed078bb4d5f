package main

// kube-apiserver's start-up read, with kube-apiserver's own client stack: -mode coldstart-encrypt
// encrypts -calls distinct 32-byte DEKs and writes plaintext+ciphertext pairs to -file; after the
// plugin is restarted, -mode coldstart-decrypt decrypts them all with -concurrency callers and
// checks every plaintext. A Go client has no JIT, so unlike a freshly started .NET client it does
// not add its own warm-up to the figure.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

type coldStartResult struct {
	Phase          string  `json:"phase"`
	Count          int     `json:"count"`
	Concurrency    int     `json:"concurrency"`
	Seconds        float64 `json:"seconds"`
	CallsPerSecond float64 `json:"calls_per_second"`
	P50Ms          float64 `json:"p50_ms"`
	P99Ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	Errors         int64   `json:"errors"`
	FirstError     string  `json:"first_error,omitempty"`
}

func runColdStart(c *client, o options, file string) error {
	if o.calls < 1 || file == "" {
		return usageError("-mode coldstart-encrypt|coldstart-decrypt needs -calls N and -file F")
	}
	if err := c.version(); err != nil {
		return err
	}
	var pairs [][2][]byte
	if o.mode == "coldstart-encrypt" {
		pairs = make([][2][]byte, o.calls)
		for i := range pairs {
			pairs[i][0] = randomBytes(32)
		}
	} else {
		var err error
		if pairs, err = readPairs(file); err != nil {
			return err
		}
	}

	durations := make([]time.Duration, len(pairs))
	var next, errs int64 = -1, 0
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(len(pairs)) {
					return
				}
				t := time.Now()
				err := coldStartCall(c, o.mode, &pairs[i])
				durations[i] = time.Since(t)
				if err != nil {
					atomic.AddInt64(&errs, 1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	if o.mode == "coldstart-encrypt" && errs == 0 {
		if err := writePairs(file, pairs); err != nil {
			return err
		}
	}
	sort.Slice(durations, func(a, b int) bool { return durations[a] < durations[b] })
	r := coldStartResult{
		Phase: o.mode, Count: len(pairs), Concurrency: o.concurrency,
		Seconds: round3(elapsed.Seconds()), CallsPerSecond: round3(float64(len(pairs)) / elapsed.Seconds()),
		P50Ms: percentileMs(durations, 0.50), P99Ms: percentileMs(durations, 0.99),
		MaxMs: round3(float64(durations[len(durations)-1].Microseconds()) / 1000), Errors: errs,
	}
	if s, ok := firstErr.Load().(string); ok {
		r.FirstError = s
	}
	if err := printJSON(r); err != nil {
		return err
	}
	if errs > 0 {
		return fmt.Errorf("%d of %d calls failed, first: %s", errs, len(pairs), r.FirstError)
	}
	return nil
}

func coldStartCall(c *client, mode string, pair *[2][]byte) error {
	if mode == "coldstart-encrypt" {
		cipher, err := c.encrypt(pair[0])
		pair[1] = cipher
		return err
	}
	plain, err := c.decryptRaw(pair[1])
	if err != nil {
		return err
	}
	if !bytes.Equal(plain, pair[0]) {
		return errors.New("Decrypt returned another plaintext")
	}
	return nil
}

// File layout, per pair: u32 len(plaintext) | plaintext | u32 len(ciphertext) | ciphertext (big endian).
// It holds test DEKs only, never real ones.
func writePairs(path string, pairs [][2][]byte) error {
	var buf bytes.Buffer
	for _, p := range pairs {
		for _, b := range p {
			_ = binary.Write(&buf, binary.BigEndian, uint32(len(b)))
			buf.Write(b)
		}
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

func readPairs(path string) ([][2][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := bytes.NewReader(data)
	var pairs [][2][]byte
	for r.Len() > 0 {
		var p [2][]byte
		for j := range p {
			var n uint32
			if err := binary.Read(r, binary.BigEndian, &n); err != nil {
				return nil, fmt.Errorf("%s: truncated: %v", path, err)
			}
			p[j] = make([]byte, n)
			if _, err := io.ReadFull(r, p[j]); err != nil {
				return nil, fmt.Errorf("%s: truncated: %v", path, err)
			}
		}
		pairs = append(pairs, p)
	}
	return pairs, nil
}
