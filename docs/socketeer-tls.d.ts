// TLS additions to the Socketeer page API (issue 5), as augmentations of the declarations in
// socketeer.d.ts: merge them into TCPSocketOptions, TCPSocketOpenInfo and TCPSocket there.
// See docs/api-tls.md.

/** How a TCP socket is protected: "starttls" opens in plaintext and upgrades with startTls(). */
type SecureTransport = "off" | "on" | "starttls";

interface TCPSocketOptions {
  /** Default "off". "on": TLS from the first byte; `opened` resolves after the handshake. */
  secureTransport?: SecureTransport;
  /** The older spelling: true is secureTransport "on", false is "off". Must agree with secureTransport. */
  useSecureTransport?: boolean;
  /** Server name sent in the ClientHello (a DNS name). Defaults to the host name. It never changes
   *  which host the certificate is verified for: that is always the host the user consented to. */
  sni?: string;
  /** ALPN protocols to offer, most preferred first: at most 16, each 1 to 255 bytes. */
  alpn?: Iterable<string>;
}

/** The explainer's navigator.openTCPSocket options take the same TLS members. */
interface TCPSocketOpenOptions extends TCPSocketOptions {}

/** The server's leaf certificate as Socketeer verified it. */
interface TLSPeerCertificate {
  /** Distinguished name, e.g. "CN=mail.example,O=Example". */
  readonly subject: string;
  readonly issuer: string;
  /** ISO 8601, UTC. */
  readonly validFrom: string;
  readonly validTo: string;
  /** SHA-256 of the DER encoding, colon-separated uppercase pairs: "3F:A2:…:9C". */
  readonly sha256Fingerprint: string;
  /** True when the certificate was accepted because the profile (or the organisation) pins it. */
  readonly pinned: boolean;
}

/** The negotiated TLS session. */
interface TLSInfo {
  /** "TLS 1.3" or "TLS 1.2". */
  readonly version: string;
  /** IANA cipher suite name, e.g. "TLS_AES_128_GCM_SHA256". */
  readonly cipherSuite: string;
  /** The ALPN protocol the server chose, or null. */
  readonly alpnProtocol: string | null;
  readonly peerCertificate: TLSPeerCertificate;
}

interface TCPSocketOpenInfo {
  /** Present on TLS sockets only. */
  readonly tls?: TLSInfo;
}

interface TCPSocket {
  /**
   * Upgrades a socket opened with secureTransport "starttls": returns a new TCPSocket whose
   * `opened` resolves once the TLS handshake is done (and rejects with a NetworkError whose
   * message starts "TLS: " when it fails). This socket's readable closes, its writable errors,
   * and its `closed` resolves once the connection has moved.
   * @throws {DOMException} InvalidStateError when the socket was not opened with "starttls", when
   * called a second time, before `opened`, or after the socket's streams ended.
   */
  startTls(): TCPSocket;
}
