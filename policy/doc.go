// Package policy is Socketeer's decision engine: given a request from a web page to open a raw TCP or
// UDP socket, it says whether the shell must refuse it, ask the user, or allow it.
//
// The package is deliberately pure. It opens no sockets, performs no DNS lookups, reads no clock,
// touches no files and runs no programs. Everything it needs — the requesting origin, the parsed
// host, the addresses the caller already resolved, the current time for rate limiting — is passed
// in. That makes every decision reproducible in a table test and means the security-critical logic
// cannot be influenced by the environment it happens to run in. TestPolicyIsPure enforces this by
// reading the package's own imports.
//
// The checks and the threats they answer:
//
//   - Man-in-the-middle: only HTTPS origins may ask at all, because a network attacker can inject
//     script into a plain-HTTP page and would then inherit the user's socket grants.
//   - Cross-origin bypass: TCP connections to port 443 are refused, because a page speaking its
//     own TLS to an HTTPS server would see responses the browser's CORS rules are meant to hide.
//   - DNS rebinding: a public-looking name that resolves to a loopback, private or otherwise
//     non-public address is refused, and this check runs before any remembered grant is consulted,
//     so a grant made while the name resolved publicly never covers a later private resolution.
//   - Encoding tricks: hosts are canonicalised by ParseHost (legacy IPv4 spellings such as
//     "0x7f.1" become real addresses, IPv6 zone identifiers are refused, Unicode names become
//     punycode) and addresses are unwrapped by Classify (IPv4-mapped, IPv4-compatible, NAT64,
//     6to4, Teredo) so that no spelling of 127.0.0.1 is mistaken for a public destination.
//   - Attacks on the user's own network: any destination on the user's machine or network is
//     flagged LocalNetwork so the consent dialog shows the address and says so.
//   - Denial of service against third parties: Limiter is a per-origin token bucket.
//   - Prompt fatigue: Lockout silences an origin's prompts for a while after repeated denials.
//   - Organisation policies: an Enterprise (merged from policy files, a deny anywhere wins) can
//     disable the API, block or allow origins and destinations, pre-grant destinations and shorten
//     the prompt; the user cannot override it.
//
// The package also owns the formats the app stores and reads: remembered grants (Grants, keyed by
// origin, protocol, mode, host, port and TLS) and enterprise policy files (EnterpriseFile). Both are
// parsed strictly; the app does the file I/O.
//
// Decisions carry a stable machine Reason and a user-safe English Message. Messages never contain
// resolved addresses, because a page that could read them would learn the layout of the user's
// internal DNS.
package policy
