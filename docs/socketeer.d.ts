// Type declarations for the socket API that Socketeer injects into the pages of a site it opens.
// The API is described in full in docs/api.md; these declarations follow it member by member.
//
// Use: copy this file into a web app's sources (or list it in tsconfig.json "files"/"include").
// It declares globals only (no import or export), like lib.dom.d.ts, and needs the "DOM" lib;
// checked with TypeScript 5.9 (make typecheck) and 4.9.
// The API exists only where Socketeer injected it: test with `"TCPSocket" in globalThis` before use.

/** Bytes a page may write: any ArrayBuffer or view of one. The bytes are copied when written. */
type SocketeerBufferSource = ArrayBuffer | ArrayBufferView;

/** Which address family a host name is resolved to. Without it, both are tried. */
type SocketDnsQueryType = "ipv4" | "ipv6";

// ---------------------------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------------------------

/** Options of `new TCPSocket(remoteAddress, remotePort, options)`. */
interface TCPSocketOptions {
  /** Disable Nagle's algorithm (TCP_NODELAY). Default false. */
  noDelay?: boolean;
  /** Turn TCP keep-alive probes on. Default false. */
  keepAlive?: boolean;
  /**
   * Idle time before the first keep-alive probe, in ms: at least 1000 (else TypeError); values above
   * 32 767 000 are capped. Default 15 000. Giving it turns keep-alive on.
   */
  keepAliveDelay?: number;
  /** Kernel send buffer size in bytes: 1 to 4294967295 (0 is a TypeError); capped at 32 MiB. */
  sendBufferSize?: number;
  /** Kernel receive buffer size in bytes: 1 to 4294967295 (0 is a TypeError); capped at 32 MiB. */
  receiveBufferSize?: number;
  /** Resolve the host name to IPv4 or IPv6 addresses only. */
  dnsQueryType?: SocketDnsQueryType;
  /** TLS: "on" from the first byte (`opened` resolves after the handshake), "starttls" to upgrade later with `startTls()`. Default "off". */
  secureTransport?: SecureTransport;
  /** The older spelling: true is secureTransport "on", false is "off". Must agree with secureTransport (TypeError). */
  useSecureTransport?: boolean;
  /**
   * Server name sent in the TLS ClientHello (a DNS name, not an address). Defaults to the host name.
   * It never changes which host the certificate is verified for: always the one the user allowed.
   */
  sni?: string;
  /** ALPN protocols to offer, most preferred first: at most 16, each 1 to 255 bytes. */
  alpn?: Iterable<string>;
}

/** How a TCP socket is protected: "starttls" opens in plaintext and upgrades with `startTls()`. */
type SecureTransport = "off" | "on" | "starttls";

/** The server's leaf certificate, as Socketeer verified it. */
interface TLSPeerCertificate {
  /** Distinguished name, e.g. "CN=mail.example,O=Example". */
  subject: string;
  issuer: string;
  /** ISO 8601, UTC. */
  validFrom: string;
  validTo: string;
  /** SHA-256 of the DER encoding, colon-separated uppercase pairs: "3F:A2:…:9C". */
  sha256Fingerprint: string;
  /** True when the certificate was accepted because the profile or the organisation pins it. */
  pinned: boolean;
}

/** The negotiated TLS session of a TLS socket. */
interface TLSInfo {
  /** The negotiated version: "TLS 1.3" or "TLS 1.2" (the lowest Socketeer offers). */
  version: string;
  /** IANA cipher suite name, e.g. "TLS_AES_128_GCM_SHA256". */
  cipherSuite: string;
  /** The ALPN protocol the server chose, or null. */
  alpnProtocol: string | null;
  peerCertificate: TLSPeerCertificate;
}

/** What `TCPSocket.opened` resolves to. Addresses are the ones the operating system reports. */
interface TCPSocketOpenInfo {
  /** Bytes from the peer, in `Uint8Array` chunks; closes when the peer finishes sending. */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; closing it half-closes the connection (FIN). */
  writable: WritableStream<SocketeerBufferSource>;
  /** The peer's IP address (never the host name that was asked for). */
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  /** On TLS sockets only: the negotiated session and the server's certificate. */
  tls?: TLSInfo;
}

/** A TCP connection: `new TCPSocket(host, port, options)`, `navigator.openTCPSocket(…)`, or accepted by a `TCPServerSocket`. */
declare class TCPSocket {
  /**
   * Opens a connection. Throws TypeError for bad arguments; everything else (refusal, failure)
   * rejects `opened`.
   * @param remoteAddress a host name or an IP address literal
   * @param remotePort 1 to 65535
   */
  constructor(remoteAddress: string, remotePort: number, options?: TCPSocketOptions);
  /** Resolves when the connection is established; rejects with NotAllowedError, NetworkError, QuotaExceededError or TypeError. */
  readonly opened: Promise<TCPSocketOpenInfo>;
  /** Resolves when the socket closed cleanly; rejects with the error that ended it. */
  readonly closed: Promise<void>;
  /** Closes both directions now and returns `closed`. Rejects with InvalidStateError before `opened` resolved or while a stream is locked. */
  close(): Promise<void>;
  /** The same as on `opened`'s value once it resolved; null before. */
  readonly readable: ReadableStream<Uint8Array> | null;
  readonly writable: WritableStream<SocketeerBufferSource> | null;
  readonly remoteAddress: string | null;
  readonly remotePort: number | null;
  readonly localAddress: string | null;
  readonly localPort: number | null;
  /**
   * On a socket opened with secureTransport "starttls": hands the connection to a new TCPSocket,
   * returned at once, whose `opened` resolves when the TLS handshake is done (and rejects with a
   * NetworkError whose message starts "TLS: " when it fails). This socket's readable closes, its
   * writable errors, and its `closed` resolves once the connection has moved. Throws
   * InvalidStateError when the socket was not opened with "starttls", when called a second time,
   * before `opened`, or after the socket's streams ended.
   */
  startTls(): TCPSocket;
}

// ---------------------------------------------------------------------------------------------
// UDP
// ---------------------------------------------------------------------------------------------

/** Options both UDP modes share. */
interface UDPSocketCommonOptions {
  /** Kernel send buffer size in bytes: 1 to 4294967295 (0 is a TypeError); capped at 32 MiB. */
  sendBufferSize?: number;
  /** Kernel receive buffer size in bytes: 1 to 4294967295 (0 is a TypeError); capped at 32 MiB. */
  receiveBufferSize?: number;
}

/** Connected mode: one peer, named by host name or IP address. */
interface UDPSocketConnectedOptions extends UDPSocketCommonOptions {
  /** A host name or an IP address literal; must not be empty. */
  remoteAddress: string;
  /** 1 to 65535. */
  remotePort: number;
  dnsQueryType?: SocketDnsQueryType;
  localAddress?: never;
  localPort?: never;
  ipv6Only?: never;
  multicastTimeToLive?: never;
  multicastLoopback?: never;
  multicastAllowAddressSharing?: never;
}

/** Bound mode: a local address and port, datagrams to and from many peers. */
interface UDPSocketBoundOptions extends UDPSocketCommonOptions {
  /** An IP address literal of this computer ("0.0.0.0" or "::" for every interface). */
  localAddress: string;
  /** 1 to 65535; leave it out to let the system choose. Below 1024 needs an organisation rule. */
  localPort?: number;
  /** Only with localAddress "::": true refuses IPv4 peers. Default: both families. */
  ipv6Only?: boolean;
  /** Time-to-live (IPv4) or hop limit (IPv6) of multicast datagrams sent: 0 to 255. Default 1. */
  multicastTimeToLive?: number;
  /** Deliver the multicast datagrams this socket sends to members on this computer too. Default true. */
  multicastLoopback?: boolean;
  /** Let other sockets bind the same address and port (SO_REUSEADDR and SO_REUSEPORT). Default false. */
  multicastAllowAddressSharing?: boolean;
  remoteAddress?: never;
  remotePort?: never;
  dnsQueryType?: never;
}

/** Options of `new UDPSocket(options)` and `navigator.openUDPSocket(options)`: exactly one of the two modes. */
type UDPSocketOptions = UDPSocketConnectedOptions | UDPSocketBoundOptions;

/**
 * A datagram to send. Connected mode: `{data}` only. Bound mode: `remoteAddress` (an IP address
 * literal) and `remotePort` (1 to 65535) are required. `data` is at most 65 488 bytes.
 */
interface UDPMessage {
  data: SocketeerBufferSource;
  remoteAddress?: string;
  remotePort?: number;
}

/** A datagram received. In bound mode it names its sender; in connected mode it has `data` only. */
interface UDPReceivedMessage {
  data: Uint8Array;
  remoteAddress?: string;
  remotePort?: number;
}

/** What `UDPSocket.opened` resolves to. */
interface UDPSocketOpenInfo {
  readable: ReadableStream<UDPReceivedMessage>;
  writable: WritableStream<UDPMessage>;
  /** Connected mode only: the peer's IP address and port. */
  remoteAddress?: string;
  remotePort?: number;
  localAddress: string;
  localPort: number;
  /** Bound mode only. */
  multicastController?: MulticastController;
}

/** A UDP socket in connected or bound mode. */
declare class UDPSocket {
  /** Throws TypeError for bad or mixed-mode options; everything else rejects `opened`. */
  constructor(options: UDPSocketOptions);
  readonly opened: Promise<UDPSocketOpenInfo>;
  readonly closed: Promise<void>;
  /** Closes the socket now and returns `closed`. Rejects with InvalidStateError before `opened` resolved or while a stream is locked. */
  close(): Promise<void>;
  /** The same as on `opened`'s value once it resolved; null before, and null where the mode has no such member. */
  readonly readable: ReadableStream<UDPReceivedMessage> | null;
  readonly writable: WritableStream<UDPMessage> | null;
  readonly remoteAddress: string | null;
  readonly remotePort: number | null;
  readonly localAddress: string | null;
  readonly localPort: number | null;
  readonly multicastController: MulticastController | null;
}

/** Options of `joinGroup` and `leaveGroup`. */
interface MulticastGroupOptions {
  /** Source-specific multicast: receive only what this IP address sends to the group. */
  sourceAddress?: string;
}

/** A source-specific membership in `joinedGroups`. */
interface MulticastSourceSpecificGroup {
  readonly groupAddress: string;
  readonly sourceAddress: string;
}

/** The multicast group memberships of a bound UDP socket (`opened.multicastController`). */
declare class MulticastController {
  private constructor();
  /** Rejects with TypeError (not a multicast address), InvalidStateError (already joined, socket not open), NotAllowedError or NetworkError. */
  joinGroup(groupAddress: string, options?: MulticastGroupOptions): Promise<void>;
  /** Rejects with TypeError, InvalidStateError (not joined, socket not open) or NetworkError. */
  leaveGroup(groupAddress: string, options?: MulticastGroupOptions): Promise<void>;
  /** A frozen snapshot: a string per any-source group, an object per source-specific one. While the socket is open it changes only when a join or leave resolves; once the socket is closed it is empty. */
  readonly joinedGroups: ReadonlyArray<string | MulticastSourceSpecificGroup>;
}

// ---------------------------------------------------------------------------------------------
// TCP server
// ---------------------------------------------------------------------------------------------

/** Options of `new TCPServerSocket(localAddress, options)`. */
interface TCPServerSocketOptions {
  /** 1 to 65535; leave it out to let the system choose. Below 32768 needs an organisation rule. */
  localPort?: number;
  /** 1 to 4294967295 (0 is a TypeError). Values above 4096 are used as 4096; the kernel caps it at net.core.somaxconn. Default: the kernel's maximum. */
  backlog?: number;
  /** Only with localAddress "::": true accepts IPv6 connections only. Default: both families. */
  ipv6Only?: boolean;
}

/** What `TCPServerSocket.opened` resolves to. */
interface TCPServerSocketOpenInfo {
  /** Each chunk is an accepted connection, already open (noDelay and keep-alive off). Cancelling it ends the server: the port closes and `closed` resolves. */
  readable: ReadableStream<TCPSocket>;
  localAddress: string;
  localPort: number;
}

/** A listening TCP socket. */
declare class TCPServerSocket {
  /**
   * @param localAddress an IP address literal of this computer ("0.0.0.0" or "::" for every interface)
   */
  constructor(localAddress: string, options?: TCPServerSocketOptions);
  readonly opened: Promise<TCPServerSocketOpenInfo>;
  readonly closed: Promise<void>;
  /** Stops listening and returns `closed`; accepted sockets stay open. Rejects with InvalidStateError before `opened` resolved or while `readable` is locked. */
  close(): Promise<void>;
  readonly readable: ReadableStream<TCPSocket> | null;
  readonly localAddress: string | null;
  readonly localPort: number | null;
}

// ---------------------------------------------------------------------------------------------
// The Raw Sockets explainer's shape
// ---------------------------------------------------------------------------------------------

/**
 * Options of `navigator.openTCPSocket`. With `remoteAddress` left out the user enters the
 * destination in Socketeer's dialog (`remotePort`, if given, is filled in there).
 */
interface OpenTCPSocketOptions extends TCPSocketOptions {
  remoteAddress?: string;
  remotePort?: number;
}

interface Navigator {
  /** Resolves to an open TCPSocket (its `readable`, `writable` and addresses set); rejects where `opened` would, and with TypeError for bad options. */
  openTCPSocket(options: OpenTCPSocketOptions): Promise<TCPSocket>;
  /** Resolves to an open UDPSocket; rejects where `opened` would, and with TypeError for bad options. */
  openUDPSocket(options: UDPSocketOptions): Promise<UDPSocket>;
}
