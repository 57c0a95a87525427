/**
 * Filter expressions whose libpcap programs drive the classic-BPF differential tests: the
 * traps of the pcap-filter spec (§2), boundary constants, runtime division by zero and
 * shifts by 32 or more, offset-changing keywords and the 1.10.3 optimizer bugs (the optimized
 * and unoptimized programs are each compared as they are).
 */
export const DIFFERENTIAL_EXPRESSIONS: readonly string[] = [
  // protocols and link-type tests
  'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'ip proto \\tcp', 'ip6 proto 44', 'ether proto 0x88cc',
  'stp', 'iso', 'llc', 'decnet', 'pppoed', 'pppoes', 'pppoes 0x3b and ip', 'mpls', 'mpls 16 and ip',
  // ports, fragments, IHL, IPv6 without extension headers
  'tcp port 80', 'not tcp port 80', 'port 53', 'udp dst port 53', 'portrange 1000-2000', 'tcp src port 8080',
  'tcp dst port 80 and not net 10.0.0.0/8', 'ip[6:2] & 0x1fff != 0', 'ip and not ip[6:2] & 0x1fff != 0',
  // hosts and nets, including ARP/RARP and the /24 meaning of a 3-part address
  'host 10.0.0.1', 'src net 10.0.0.0/8', 'dst host 192.168.1', 'arp host 10.0.0.1', 'net 2001:db8::/32',
  'ip6 host 2001:db8::1', 'ip host 10.0.0.1 and (tcp or udp)', 'ether host 00:11:22:33:44:55',
  'ether broadcast', 'ether multicast', 'ip multicast', 'ip6 multicast',
  // evaluation order with out-of-range loads; wire length vs captured length
  'tcp or ip[100]=1', 'ip[100]=1 or tcp', 'ip[100:4] = 0 or udp', 'less 60', 'greater 1000', 'len >= 100',
  'ether[len - 4:4] = 0', 'ether[len - 1] != 7', 'ip[0xffffffee:4] = 0',
  // transport accessors
  'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn', 'tcp[13] & 2 != 0', 'icmp[icmptype] = icmp-echo', 'udp[8:4] = 0x01020304',
  'icmp6[icmp6type] = icmp6-echo', 'ip6[6] = 58',
  // arithmetic: precedence traps and boundary constants
  'ip[0] % 3 + 1 = 2', 'ip[0] & 3 ^ 1 = 0', '-1 = 4294967295', 'len - 4294967295 = len + 1', 'len * 2147483648 = 0',
  'len / 2147483647 = 0', 'len + 4294967295 > 0', 'len & 4294967295 = len', 'len | 2147483648 > 2147483647',
  'len % 2 = 1', 'ip[8] * 67108864 > 2147483647',
  // runtime division by zero (IPv4 checksums are 0 in the synthetic packets) and shifts by 32 or more
  'ip[2:2] / ip[10] > 0', 'ip[2:2] % ip[11] = 0', 'not ip[2:2] / ip[10] > 0',
  'ip[0] << (ip[9] + 26) = 0', 'len >> (ip[9] + 27) = 0', '1 << ip[8] != 0', 'len >> ip[8] = 0',
  // VLAN (each use shifts later offsets) and Geneve (offsets in registers and scratch memory)
  'vlan', 'vlan 100', 'vlan and ip', 'vlan 100 or vlan 200', 'ip or (vlan and ip)', 'not vlan and vlan', 'geneve', 'geneve and tcp',
  // the libpcap 1.10.3 optimizer bugs
  'link[0:1] & 0xffffffff != 0', 'len >= 2147483648 & 2147483648 or len < 0 | 2147483648',
  '(1 = 0) || (2147483648 / 4294967295 = 0) and (0 & 4294967295 = 0)',
];
