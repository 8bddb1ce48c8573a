using System;
using System.Text;

namespace NLog.Targets.Firehose.Internal
{
    /// <summary>
    /// Replaces invalid UTF-16 — lone surrogates — with U+FFFD: raw ones, and, in JSON text, escaped ones
    /// (<c>\ud800</c>, as NLog's JsonLayout writes them), which many JSON readers downstream reject. Surrogate pairs and
    /// everything else stay as they are.
    /// </summary>
    internal static class Utf16Repair
    {
        /// <summary>
        /// Returns the repaired text, or null when <paramref name="text"/> holds no lone surrogate (the common case,
        /// found with a single scan and no allocation). <paramref name="replaced"/> says how many were replaced.
        /// </summary>
        public static string? Repair(string text, bool json, out int replaced)
        {
            replaced = 0;
            bool raw = HasSurrogate(text);
            bool escaped = json && text.IndexOf("\\u", StringComparison.Ordinal) >= 0;
            if (!raw && !escaped)
                return null;

            var result = new StringBuilder(text.Length);
            int i = 0;
            while (i < text.Length)
            {
                char c = text[i];
                if (json && c == '\\' && i + 1 < text.Length)
                {
                    if (text[i + 1] == 'u' && TryEscape(text, i, out int code))
                    {
                        if (code >= 0xD800 && code <= 0xDBFF && TryEscape(text, i + 6, out int next) && next >= 0xDC00 && next <= 0xDFFF)
                        {
                            result.Append(text, i, 12);
                            i += 12;
                        }
                        else if (code >= 0xD800 && code <= 0xDFFF)
                        {
                            result.Append("\\ufffd");
                            replaced++;
                            i += 6;
                        }
                        else
                        {
                            result.Append(text, i, 6);
                            i += 6;
                        }
                        continue;
                    }
                    result.Append(c).Append(text[i + 1]); // any other escape, including \\ before a literal "u"
                    i += 2;
                    continue;
                }
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    result.Append(c).Append(text[i + 1]);
                    i += 2;
                    continue;
                }
                if (char.IsSurrogate(c))
                {
                    result.Append('\uFFFD');
                    replaced++;
                }
                else
                {
                    result.Append(c);
                }
                i++;
            }
            return replaced == 0 ? null : result.ToString();
        }

        private static bool HasSurrogate(string text)
        {
#if NET8_0_OR_GREATER
            return text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0;
#else
            foreach (char c in text)
            {
                if (c >= '\uD800' && c <= '\uDFFF')
                    return true;
            }
            return false;
#endif
        }

        /// <summary>Reads <c>\uXXXX</c> at <paramref name="at"/>.</summary>
        private static bool TryEscape(string text, int at, out int code)
        {
            code = 0;
            if (at + 6 > text.Length || text[at] != '\\' || text[at + 1] != 'u')
                return false;
            for (int k = at + 2; k < at + 6; k++)
            {
                int digit = HexValue(text[k]);
                if (digit < 0)
                    return false;
                code = (code << 4) | digit;
            }
            return true;
        }

        private static int HexValue(char c)
        {
            if (c >= '0' && c <= '9')
                return c - '0';
            if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
            if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
            return -1;
        }
    }
}
