import ipaddr from 'ipaddr.js';

/**
 * The rate-limit key of a client address (issue 15, finding 5). An IPv6 client usually holds
 * a whole /64 (one subnet per home or host, SLAAC and privacy addresses rotate inside it), so
 * counting per IPv6 address lets it dodge every limit by rotating: IPv6 is counted per /64.
 * IPv4 (also IPv4-mapped IPv6, `::ffff:a.b.c.d`) is counted per address.
 */
export function clientAddressKey(address: string | undefined): string {
  if (!address || !ipaddr.isValid(address)) return 'unknown';
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress())
    ip = (ip as ipaddr.IPv6).toIPv4Address();
  if (ip.kind() === 'ipv4') return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}

/** True for loopback addresses (127.0.0.0/8, ::1, and IPv4-mapped loopback). */
export function isLoopbackAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = ipaddr.process(address);
  return ip.range() === 'loopback';
}
