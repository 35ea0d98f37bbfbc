package policy

import (
	"errors"
	"strings"
)

// Parameters of the Bootstring instance that RFC 3492 calls Punycode. They are fixed by the RFC;
// changing any of them would produce names no DNS server knows.
const (
	punyBase        = 36
	punyTMin        = 1
	punyTMax        = 26
	punySkew        = 38
	punyDamp        = 700
	punyInitialBias = 72
	punyInitialN    = 128
)

// errPunycodeOverflow is returned when a label is so long that the Punycode state would overflow.
// ParseHost caps labels at 63 runes before encoding, so callers inside this package never see it;
// it exists so that punycodeEncode is safe on any input rather than relying on that cap.
var errPunycodeOverflow = errors.New("label is too long to encode")

// punycodeEncode returns the RFC 3492 Punycode encoding of a label, without the "xn--" prefix.
// The caller is responsible for case folding and validation; this function only encodes.
//
// It is written out here, rather than imported from golang.org/x/net/idna, to keep the policy
// package free of dependencies; the algorithm is short and the tests check it against the RFC's
// own sample strings.
func punycodeEncode(label string) (string, error) {
	runes := []rune(label)
	var out strings.Builder

	// Basic (ASCII) code points are copied through unchanged, followed by a delimiter if any were.
	basic := 0
	for _, r := range runes {
		if r < 0x80 {
			out.WriteRune(r)
			basic++
		}
	}
	if basic > 0 {
		out.WriteByte('-')
	}

	// The limit keeps every intermediate value far from int overflow on both 32- and 64-bit
	// platforms; no real label comes within orders of magnitude of it.
	const limit = 1 << 30
	n, delta, bias := punyInitialN, 0, punyInitialBias
	for handled := basic; handled < len(runes); {
		// Find the smallest code point not yet handled.
		m := int(^uint(0) >> 1)
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if (m - n) > (limit-delta)/(handled+1) {
			return "", errPunycodeOverflow
		}
		delta += (m - n) * (handled + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
				if delta > limit {
					return "", errPunycodeOverflow
				}
			}
			if int(r) != n {
				continue
			}
			// Emit delta as a generalized variable-length integer.
			q := delta
			for k := punyBase; ; k += punyBase {
				t := k - bias
				if t < punyTMin {
					t = punyTMin
				} else if t > punyTMax {
					t = punyTMax
				}
				if q < t {
					break
				}
				out.WriteByte(punyDigit(t + (q-t)%(punyBase-t)))
				q = (q - t) / (punyBase - t)
			}
			out.WriteByte(punyDigit(q))
			bias = punyAdapt(delta, handled+1, handled == basic)
			delta = 0
			handled++
		}
		delta++
		n++
	}
	return out.String(), nil
}

// punyAdapt is the bias adaptation function of RFC 3492 section 6.1.
func punyAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= punyDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((punyBase-punyTMin)*punyTMax)/2 {
		delta /= punyBase - punyTMin
		k += punyBase
	}
	return k + (punyBase-punyTMin+1)*delta/(delta+punySkew)
}

// punyDigit maps 0..35 to "a".."z", "0".."9". Lowercase output keeps names canonical.
func punyDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}
