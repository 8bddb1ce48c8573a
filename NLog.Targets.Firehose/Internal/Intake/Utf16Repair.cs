using System;
using System.Runtime.CompilerServices;

namespace NLog.Targets.Firehose.Internal.Intake
{
    /// <summary>
    /// Replaces invalid UTF-16 — lone surrogates — with U+FFFD: raw ones, and, in JSON text, escaped ones
    /// (<c>\ud800</c>, as NLog's JsonLayout writes them), which many JSON readers downstream reject. Surrogate pairs and
    /// everything else stay as they are. Both replacements keep the text's length (a char for a char, <c>\ufffd</c> for
    /// <c>\ud800</c>), so the repair works in place.
    /// </summary>
    internal static class Utf16Repair
    {
        /// <summary>
        /// Repairs the first <paramref name="length"/> chars of <paramref name="chars"/> in place; returns how many lone
        /// surrogates were replaced. The common case (none) is a single scan.
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        public static int RepairInPlace(char[] chars, int length, bool json)
        {
            var text = new ReadOnlySpan<char>(chars, 0, length);
            bool raw = HasSurrogate(text);
            bool escaped = json && HasEscape(text);
            if (!raw && !escaped)
                return 0;

            int replaced = 0;
            int i = 0;
            while (i < length)
            {
                char c = chars[i];
                if (json && c == '\\' && i + 1 < length)
                {
                    if (chars[i + 1] == 'u' && TryEscape(chars, length, i, out int code))
                    {
                        if (code >= 0xD800 && code <= 0xDBFF && TryEscape(chars, length, i + 6, out int next) && next >= 0xDC00 && next <= 0xDFFF)
                        {
                            i += 12;
                        }
                        else
                        {
                            if (code >= 0xD800 && code <= 0xDFFF)
                            {
                                chars[i + 2] = 'f';
                                chars[i + 3] = 'f';
                                chars[i + 4] = 'f';
                                chars[i + 5] = 'd';
                                replaced++;
                            }
                            i += 6;
                        }
                        continue;
                    }
                    i += 2; // any other escape, including \\ before a literal "u"
                    continue;
                }
                if (char.IsHighSurrogate(c) && i + 1 < length && char.IsLowSurrogate(chars[i + 1]))
                {
                    i += 2;
                    continue;
                }
                if (char.IsSurrogate(c))
                {
                    chars[i] = '\uFFFD';
                    replaced++;
                }
                i++;
            }
            return replaced;
        }

        /// <summary>Whether the text holds a backslash followed by <c>u</c> (a JSON <c>\uXXXX</c> escape, maybe).</summary>
        private static bool HasEscape(ReadOnlySpan<char> text)
        {
            int at = text.IndexOf('\\');
            while (at >= 0 && at + 1 < text.Length)
            {
                if (text[at + 1] == 'u')
                    return true;
                int next = text.Slice(at + 1).IndexOf('\\');
                if (next < 0)
                    return false;
                at += 1 + next;
            }
            return false;
        }

#if NET8_0_OR_GREATER
        private static readonly System.Buffers.SearchValues<char> Surrogates = System.Buffers.SearchValues.Create(SurrogateRange());

        private static char[] SurrogateRange()
        {
            var range = new char[0x800];
            for (int i = 0; i < range.Length; i++)
                range[i] = (char)(0xD800 + i);
            return range;
        }
#endif

        [MethodImpl(HotPath.Optimized)]
        private static bool HasSurrogate(ReadOnlySpan<char> text)
        {
#if NET8_0_OR_GREATER
            // Vectorized, and precompiled in the framework: a plain loop here ran for seconds in the runtime's instrumented
            // tier (each iteration a call into the runtime) before it was optimized. SearchValues, not IndexOfAnyInRange:
            // the generic IndexOfAnyInRange<char> allocated 96 bytes a call until the runtime had optimized it (the first
            // second or so of a burst; RecordSlabTests saw it when run on their own).
            return text.IndexOfAny(Surrogates) >= 0;
#else
            foreach (char c in text)
            {
                if ((uint)(c - 0xD800) <= 0x7FF)
                    return true;
            }
            return false;
#endif
        }

        private static bool TryEscape(char[] chars, int length, int at, out int code)
        {
            code = 0;
            if (at + 6 > length || chars[at] != '\\' || chars[at + 1] != 'u')
                return false;
            for (int k = at + 2; k < at + 6; k++)
            {
                int digit = HexValue(chars[k]);
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
