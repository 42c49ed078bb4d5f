#!/usr/bin/env python3
"""Where the time goes in a `perf script` dump of the plugin, by component: "in stack" is the
share of samples with a frame of the component anywhere on the stack (inclusive, so the column
does not add up to 100 %), "self" the share whose leaf frame belongs to it. Then the top self
frames. Generic arguments are cut from NativeAOT symbols before matching: identical code folding
gives many instantiations one name, so the arguments in a name can point at the wrong type.
Usage: perf script -i perf.data -F comm,tid,ip,sym,dso | perf-where.py TITLE
"""
import collections
import re
import sys

COMPONENTS = [
    (":authority normalizer (pipe copy, HPACK rewrite)", r"_AuthorityNormalizer_"),
    ("plugin gRPC services (V1/V2 adapters)", r"KmsPlugin_Server_Grpc_KeyManagementService|KmsPlugin_Server_Grpc_RootKeyService|KmsServiceBinder"),
    ("plugin interceptors (error, log scope, metrics)", r"KmsPlugin_Server_\w*Interceptor"),
    ("interceptor activation (Grpc DefaultGrpcInterceptorActivator)", r"DefaultGrpcInterceptorActivator"),
    ("reflection (S_P_Reflection, ConstructorInvoker)", r"S_P_Reflection|System_Reflection"),
    ("envelope + data-key cache (KmsPlugin.Core)", r"KmsPlugin_Core_"),
    ("data-key cache alone", r"DataEncryptionKeyCache|CachedDataKey|ActiveDataKey"),
    ("root keys (keystore, PKCS#11)", r"KmsPlugin_RootKeys_|libsofthsm"),
    ("AES-GCM / OpenSSL (libcrypto)", r"libcrypto|libssl|System_Security_Cryptography"),
    ("plugin observability (health endpoint middleware, metrics)", r"KmsPlugin_Server_Observability"),
    ("logging / metrics libraries (Microsoft.Extensions.Logging, System.Diagnostics)", r"Microsoft_Extensions_Logging|System_Diagnostics_Metrics|System_Diagnostics_DiagnosticListener"),
    ("gRPC library (Grpc.AspNetCore, Google.Protobuf)", r"Grpc_AspNetCore|Grpc_Core|Grpc_Shared|Google_Protobuf|KmsPlugin_Protocol"),
    ("Kestrel (HTTP/2, HPACK)", r"Kestrel"),
    ("ASP.NET Core routing / hosting", r"Microsoft_AspNetCore_(?:Routing|Hosting|Http_)"),
    ("pipelines / sockets", r"System_IO_Pipelines|System_Net_Sockets"),
    ("GC / allocation / write barriers", r"WKS::|SVR::|gc_heap|GCHeap|RhpNew|RhpGcAlloc|RhpAssignRef|RhpCheckedAssignRef"),
    ("casts / interface dispatch", r"RhpInterfaceDispatch|TypeCast__|GVMLookupForSlot"),
    ("thread pool", r"ThreadPoolWorkQueue__Dispatch|PortableThreadPool|LowLevelLifoSemaphore"),
    ("locks / spinning", r"Monitor__|_Lock__|SpinWait|RhSpinWait|sched_yield"),
    ("libc (user-space syscall entry)", r"\(libc\.so"),
    ("kernel (syscalls, scheduling)", r"\[kernel"),
]
PATTERNS = [(name, re.compile(p)) for name, p in COMPONENTS]
GENERIC = re.compile(r"<[^<>]*>")


def strip_generics(frame):
    while True:
        shorter = GENERIC.sub("", frame)
        if shorter == frame:
            return frame
        frame = shorter


def read_samples(lines):
    samples, stack = [], None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        if line[0] in " \t":
            if stack is not None:
                stack.append(strip_generics(line.strip()))
        else:
            if stack:
                samples.append(stack)
            stack = []
    if stack:
        samples.append(stack)
    return samples


def symbol(frame):
    # "ip symbol+off (dso)" -> "symbol (dso basename)"
    m = re.match(r"^[0-9a-f]+\s+(.*?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)$", frame)
    return f"{m.group(1)} ({m.group(2).rsplit('/', 1)[-1]})" if m else frame


def main():
    title = sys.argv[1] if len(sys.argv) > 1 else "profile"
    samples = read_samples(sys.stdin)
    total = len(samples)
    if total == 0:
        sys.exit("error: no samples with call stacks in the perf script output")
    inclusive, self_ = collections.Counter(), collections.Counter()
    for stack in samples:
        joined = "\n".join(stack)
        for name, pattern in PATTERNS:
            if pattern.search(joined):
                inclusive[name] += 1
        self_[next((n for n, p in PATTERNS if p.search(stack[0])), "other")] += 1
    print(f"### {title}: {total} samples\n")
    print("| component | in stack | self |")
    print("|---|---|---|")
    for name, _ in COMPONENTS + [("other", None)]:
        if inclusive[name] or self_[name]:
            print(f"| {name} | {100.0 * inclusive[name] / total:.1f} % | {100.0 * self_[name] / total:.1f} % |")
    print("\n| top self frames | share |")
    print("|---|---|")
    for name, n in collections.Counter(symbol(s[0]) for s in samples).most_common(25):
        print(f"| `{name}` | {100.0 * n / total:.1f} % |")
    print()


if __name__ == "__main__":
    main()
