#!/usr/bin/env python3
"""Where the time goes in a `perf script` dump of the plugin: every sample is charged to the first
category (in the order below) that any frame of its stack matches, so the shares add up to 100 %.
Also prints the top self frames. Usage: perf script -i perf.data -F comm,tid,ip,sym,dso | perf-where.py TITLE
"""
import collections
import re
import sys

# Most specific first: a sample inside AES-GCM called from the envelope counts as AES-GCM.
CATEGORIES = [
    ("AES-GCM / OpenSSL (libcrypto, libssl)", re.compile(r"libcrypto|libssl|AesGcm|Interop_Crypto|EVP_")),
    ("PKCS#11 module (SoftHSM)", re.compile(r"libsofthsm|Pkcs11")),
    ("root key unwrap / keystore", re.compile(r"RootKeys|Keystore|Argon2")),
    ("data-key cache", re.compile(r"DataKeyCache|DataKey")),
    ("envelope (seal/open, formats)", re.compile(r"KmsPlugin_Core|KmsPlugin_EtcdValues")),
    (":authority normalizer (pipe copy, HPACK rewrite)", re.compile(r"AuthorityNormalizer")),
    ("interceptors / observability", re.compile(r"Interceptor|Observability|Metrics|Diagnostics")),
    ("plugin gRPC services / adapters", re.compile(r"KmsPlugin_Server")),
    ("gRPC (Grpc.AspNetCore, Google.Protobuf)", re.compile(r"Grpc_|Google_Protobuf")),
    ("Kestrel HTTP/2 + ASP.NET Core", re.compile(r"Kestrel|AspNetCore|Http2|Hpack")),
    ("pipelines / sockets", re.compile(r"System_IO_Pipelines|System_Net_Sockets|SocketAsyncEngine")),
    ("GC / allocator", re.compile(r"\bgc_|GCHeap|WKS::|SVR::|RhpNew|RhpGcAlloc|GcAlloc|memset|memmove")),
    ("thread pool / async machinery", re.compile(r"ThreadPool|PortableThreadPool|AsyncStateMachine|Task_|LowLevelLifoSemaphore|WorkStealing")),
    ("locks / waits", re.compile(r"Monitor|SpinWait|pthread_cond|futex|LowLevelMonitor")),
    ("libc / syscalls (user-space entry)", re.compile(r"libc\.so|libc-|\[vdso\]|syscall|epoll|__libc|recv|send|write|read")),
]


def main():
    title = sys.argv[1] if len(sys.argv) > 1 else "profile"
    samples = []
    stack = []
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            if stack:
                samples.append(stack)
            stack = []
            continue
        if line.startswith((" ", "\t")):
            stack.append(line.strip())
        else:
            if stack:
                samples.append(stack)
            stack = [line.strip()]
    if stack:
        samples.append(stack)
    # The first line of a sample is its header (comm tid); the frames follow, leaf first.
    frames = [s[1:] for s in samples if len(s) > 1]
    total = len(frames)
    if total == 0:
        sys.exit("error: no samples with stacks in the perf script output")
    charged = collections.Counter()
    for f in frames:
        joined = "\n".join(f)
        for name, pattern in CATEGORIES:
            if pattern.search(joined):
                charged[name] += 1
                break
        else:
            charged["other / unknown"] += 1
    leaf = collections.Counter(symbol(f[0]) for f in frames)
    print(f"### {title}: {total} samples\n")
    print("| where (first match over the whole stack) | share |")
    print("|---|---|")
    for name, n in charged.most_common():
        print(f"| {name} | {100.0 * n / total:.1f} % |")
    print("\n| top self frames | share |")
    print("|---|---|")
    for name, n in leaf.most_common(25):
        print(f"| `{name}` | {100.0 * n / total:.1f} % |")
    print()


def symbol(frame):
    # "ip symbol+off (dso)" -> "symbol (dso basename)"
    m = re.match(r"^[0-9a-f]+\s+(.*?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)$", frame)
    if not m:
        return frame
    dso = m.group(2).rsplit("/", 1)[-1]
    return f"{m.group(1)} ({dso})"


if __name__ == "__main__":
    main()
