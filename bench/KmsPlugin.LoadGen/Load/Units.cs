namespace KmsPlugin.LoadGen.Load;

/// <summary>The units results are reported in, rounded as printed.</summary>
internal static class Units
{
    public static double Milliseconds(long nanoseconds) => Math.Round(nanoseconds / 1e6, 3);

    public static double Mebibytes(long bytes) => Math.Round(bytes / 1048576.0, 1);
}
