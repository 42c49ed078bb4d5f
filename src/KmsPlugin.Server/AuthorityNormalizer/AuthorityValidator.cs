namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// The host check Kestrel applies to <c>:authority</c> (HttpUtilities.IsHostHeaderValid): empty, or
/// reg-name characters [A-Za-z0-9!$&amp;'()-._~] or a bracketed IPv6 literal, then optionally ":" and
/// at least one digit. Anything else (a socket path, its percent-encoded form) makes Kestrel reset the stream.
/// </summary>
internal static class AuthorityValidator
{
    public static bool IsValid(ReadOnlySpan<byte> authority)
    {
        if (authority.IsEmpty)
        {
            return true;
        }

        int hostEnd;
        if (authority[0] == (byte)'[')
        {
            int close = authority.IndexOf((byte)']');
            // "[::1]" is the shortest literal Kestrel accepts.
            if (close < 4)
            {
                return false;
            }

            foreach (byte b in authority[1..close])
            {
                if (!IsHexDigit(b) && b != ':' && b != '.')
                {
                    return false;
                }
            }

            hostEnd = close + 1;
        }
        else
        {
            hostEnd = 0;
            while (hostEnd < authority.Length && IsRegNameChar(authority[hostEnd]))
            {
                hostEnd++;
            }

            if (hostEnd == 0)
            {
                return false;
            }
        }

        return hostEnd == authority.Length || IsPort(authority[hostEnd..]);
    }

    private static bool IsPort(ReadOnlySpan<byte> rest)
    {
        if (rest.Length < 2 || rest[0] != ':')
        {
            return false;
        }

        foreach (byte b in rest[1..])
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsRegNameChar(byte b) =>
        char.IsAsciiLetterOrDigit((char)b) || b is (byte)'!' or (byte)'$' or (byte)'&' or (byte)'\''
            or (byte)'(' or (byte)')' or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~';

    private static bool IsHexDigit(byte b) => char.IsAsciiHexDigit((char)b);
}
