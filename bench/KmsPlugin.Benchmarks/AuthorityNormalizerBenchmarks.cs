using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using KmsPlugin.Server.AuthorityNormalizer;
using KmsPlugin.Server.Tests.AuthorityNormalizer;

namespace KmsPlugin.Benchmarks;

/// <summary>
/// The <c>:authority</c> normalizer's cost per request header block, in the steady state a gRPC
/// client reaches: after its first request every field is a dynamic-table reference, so each block
/// is a few indexed fields. Against a plain pipe-to-pipe copy of the same bytes (the floor): a
/// <c>localhost</c> connection (decoded, forwarded byte for byte) and a socket-path connection as
/// kube-apiserver's v1 client makes (decoded and re-encoded with <c>:authority: localhost</c>).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class AuthorityNormalizerBenchmarks
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private static readonly (string Name, string Value)[] GrpcRequestFields =
    [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/v1beta1.KeyManagementService/Encrypt"),
        (":authority", ""),
        ("content-type", "application/grpc"),
        ("user-agent", "grpc-go/1.33.3"),
        ("te", "trailers"),
        ("grpc-timeout", "2999892u"),
    ];

    private InlinePipePump _copy = null!;
    private InlinePipePump _passThrough = null!;
    private InlinePipePump _rewrite = null!;
    private byte[] _indexedBlock = [];

    [GlobalSetup]
    public void Setup()
    {
        _copy = new InlinePipePump(CopyAsync);
        _passThrough = Start("localhost");
        _rewrite = Start("/var/run/kmsplugin/kms.sock");

        // Every field is in the client's dynamic table now: newest entry is 62, oldest 62 + n - 1.
        var indexed = new TestBlockBuilder();
        for (var i = 0; i < GrpcRequestFields.Length; i++)
        {
            indexed.Indexed(62 + GrpcRequestFields.Length - 1 - i);
        }

        _indexedBlock = HeadersFrame(indexed.ToArray());
        _copy.Send(_indexedBlock);
        if (_passThrough.Send(_indexedBlock) != _indexedBlock.Length || _rewrite.Send(_indexedBlock) <= _indexedBlock.Length)
        {
            throw new InvalidOperationException("pass-through must forward the block as is and rewrite must expand it");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _copy.Dispose();
        _passThrough.Dispose();
        _rewrite.Dispose();
    }

    [Benchmark(Baseline = true)]
    public long PipeCopy() => _copy.Send(_indexedBlock);

    [Benchmark]
    public long ValidAuthorityPassedThrough() => _passThrough.Send(_indexedBlock);

    [Benchmark]
    public long SocketPathRewritten() => _rewrite.Send(_indexedBlock);

    private static InlinePipePump Start(string authority)
    {
        var pump = new InlinePipePump((input, output) => new AuthorityNormalizingConnection(input, output, KmsPlugin.Server.Hosting.PluginHost.MaxRequestHeadersTotalSize).RunAsync());

        // The client's first request: every field added to its dynamic table.
        var first = new TestBlockBuilder();
        foreach (var (name, value) in GrpcRequestFields)
        {
            first.Incremental(name, name == ":authority" ? authority : value);
        }

        pump.Send([.. Preface, .. Frame(0x4, 0, 0, []), .. HeadersFrame(first.ToArray())]);
        return pump;
    }

    private static byte[] HeadersFrame(byte[] block) =>
        Frame(Http2FrameHeader.TypeHeaders, Http2FrameHeader.FlagEndHeaders, 1, block);

    private static byte[] Frame(byte type, byte flags, int streamId, byte[] payload)
    {
        var frame = new byte[Http2FrameHeader.Size + payload.Length];
        new Http2FrameHeader(payload.Length, type, flags, streamId).Write(frame);
        payload.CopyTo(frame, Http2FrameHeader.Size);
        return frame;
    }

    private static async Task CopyAsync(PipeReader input, PipeWriter output)
    {
        while (true)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            foreach (var segment in result.Buffer)
            {
                output.Write(segment.Span);
            }

            input.AdvanceTo(result.Buffer.End);
            await output.FlushAsync().ConfigureAwait(false);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await output.CompleteAsync().ConfigureAwait(false);
        await input.CompleteAsync().ConfigureAwait(false);
    }
}
