namespace KmsPlugin.LoadGen.Load;

/// <summary>
/// An encrypt:decrypt ratio such as 1:1 or 1:9, spread evenly over a short repeating pattern
/// (1:3 = E D D D), so every worker issues the same mix without a random draw per call.
/// </summary>
internal sealed class OperationMix
{
    private OperationMix(int encrypts, int decrypts)
    {
        Encrypts = encrypts;
        Decrypts = decrypts;
        Pattern = new bool[encrypts + decrypts];
        for (int i = 0, e = 0; i < Pattern.Length; i++)
        {
            // Bresenham: call i is an Encrypt when the running share of encrypts falls behind.
            if ((long)(e + 1) * Pattern.Length <= (long)(i + 1) * encrypts)
            {
                Pattern[i] = true;
                e++;
            }
        }
    }

    public int Encrypts { get; }

    public int Decrypts { get; }

    /// <summary>true = Encrypt, false = Decrypt.</summary>
    public bool[] Pattern { get; }

    public override string ToString() => $"{Encrypts}:{Decrypts}";

    public static bool TryParse(string text, out OperationMix mix)
    {
        mix = null!;
        var parts = text.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int e) || !int.TryParse(parts[1], out int d)
            || e < 0 || d < 0 || e + d == 0 || e + d > 1000)
        {
            return false;
        }

        mix = new OperationMix(e, d);
        return true;
    }
}
