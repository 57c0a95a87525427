/**
 * Filter expressions for the differential suite: every primitive and qualifier in scope, the
 * traps of the language (precedence of and/or and of % and ^, qualifier inheritance, offsets
 * shifted by vlan/mpls/pppoes, IPv4 fragments, IPv6 extension headers, truncation order,
 * runtime faults), named constants and names from /etc/services and /etc/protocols.
 */
export const EXPRESSIONS: string[] = [
  // protocols
  '', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'sctp', 'icmp', 'icmp6', 'igmp', 'igrp', 'pim', 'vrrp', 'carp', 'ah', 'esp',
  'atalk', 'aarp', 'decnet', 'lat', 'sca', 'mopdl', 'moprc', 'iso', 'esis', 'isis', 'clnp', 'stp', 'ipx', 'netbeui',
  'l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp', 'es-is', 'is-is',
  'ip proto 6', 'ip proto \\tcp', 'ip proto \\udp', 'ip6 proto 17', 'ip6 proto \\tcp', 'proto 6', 'proto \\icmp', 'ip proto 300',
  'ether proto 0x800', 'ether proto \\ip', 'ether proto \\arp', 'ether proto \\ip6', 'ether proto \\stp', 'ether proto \\iso',
  'ether proto 0x88cc', 'ether proto 38', 'ether proto \\loopback', 'link proto 0x86dd', 'iso proto \\clnp', 'isis proto 0x12',
  'ip proto \\ospf', 'proto \\gre',
  'ip protochain 6', 'ip6 protochain 6', 'ip6 protochain 17', 'protochain 6', 'ip6 protochain 44', 'ip6 protochain \\udp', 'protochain 51',
  // hosts and nets
  'host 10.0.0.1', 'src host 10.0.0.1', 'dst host 192.168.1.7', 'host 192.168.1.7 and host 10.0.0.1',
  'src and dst host 10.0.0.1', 'src or dst host 10.0.0.9', 'dst or src host 10.0.0.1', 'dst and src host 10.0.0.1',
  'ip host 10.0.0.1', 'arp host 10.0.0.1', 'rarp host 10.0.0.9', 'arp src host 10.0.0.1', 'arp dst host 10.0.0.2',
  'host 192.168.1', 'host 10', 'host 10.0', 'net 10', 'net 192.168', 'net 192.168.1.0/24', 'net 10.0.0.0/8', 'net 0.0.0.0/0',
  'net 192.168.0.0 mask 255.255.0.0', 'src net 10.0.0.0/8', 'dst net 224.0.0.0/4', 'net 10.0.0.1/32', 'ip net 10',
  'host 10.0.0.1 or 10.0.0.2', 'host 10.0.0.1 and not 192.168.1.7', 'host 10.0.0.1 and (192.168.1.7 or 10.0.0.2)',
  'src 10.0.0.1', 'dst 192.168.1.7', 'src net 10 or 192.168.1.7',
  'host 2001:db8::1', 'ip6 host 2001:db8::2', 'src host 2001:db8::1', 'dst host ff02::1:2', 'net 2001:db8::/32',
  'net 2001:db8::/64', 'net ::/0', 'ip6 net ff00::/8', 'host ::1', 'host 2001:db8::1 or 2001:db8::2',
  'ether host 00:11:22:33:44:55', 'ether src 02:00:00:00:00:01', 'ether dst 00:11:22:33:44:55', 'ether host 0011.2233.4455',
  'ether host 001122334455', 'ether src and dst 00:11:22:33:44:55', 'ether host 00-11-22-33-44-55', 'ether dst ff:ff:ff:ff:ff:ff',
  'ether broadcast', 'ether multicast', 'broadcast', 'multicast', 'ip multicast', 'ip6 multicast', 'link multicast',
  // ports
  'port 80', 'tcp port 80', 'udp port 53', 'sctp port 80', 'src port 8080', 'dst port 80', 'tcp src port 8080', 'tcp dst port 80',
  'port 53', 'udp src port 5353', 'src and dst port 80', 'port 80 or 53', 'tcp port 80 or 8080', 'tcp dst port 22 or 23',
  'not port 80', 'not tcp port 80', 'port domain', 'port http', 'tcp port http', 'udp port domain', 'port ssh', 'port 6081',
  'portrange 1-100', 'portrange 50-60', 'tcp portrange 79-81', 'udp portrange 50-60', 'src portrange 8000-9000',
  'dst portrange 80-80', 'portrange 100-1', 'portrange ftp-data-ssh', 'portrange http-https', 'tcp portrange 0-65535',
  'port 0', 'port 65535', 'port 546 or port 547',
  // lengths
  'less 60', 'greater 100', 'less 1500', 'greater 1000', 'len > 100', 'len = 1500', 'len <= 54', 'length >= 60',
  // accessors and arithmetic
  'ip[0] = 0x45', 'ip[0] & 0xf = 5', 'ip[0] & 0xf != 5', 'ip[9] = 6', 'ip[6:2] & 0x1fff = 0', 'ip[2:2] > 40', 'ip[12:4] = 0x0a000001',
  'ip[16] >= 224', 'ip[100] = 1', 'tcp or ip[100] = 1', 'ip[100] = 1 or tcp', 'ip[0xffffffee:4] = 0', 'ip[0xfffffff0] = 1',
  'tcp[13] = 2', 'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn', 'tcp[tcpflags] & tcp-ack != 0',
  'tcp[0:2] = 8080', 'tcp[2:2] = 80', 'tcp[12] >> 4 > 5', 'udp[0:2] = 5353', 'udp[2:2] = 53', 'udp[4:2] > 8',
  'icmp[icmptype] = icmp-echo', 'icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply', 'icmp[0] = 8', 'icmp[icmpcode] = 0',
  'icmp6[icmp6type] = icmp6-echo', 'icmp6[0] = 128', 'icmp6[icmp6type] = icmp6-neighborsolicit', 'igmp[0] = 0x11',
  'ip6[6] = 6', 'ip6[24] = 0xff', 'ip6[40:2] = 80', 'arp[6:2] = 1', 'arp[7] = 2', 'rarp[7] = 3', 'link[0] & 1 != 0', 'ether[12:2] = 0x800',
  'ether[0:4] = 0xffffffff', 'ether[6:2] = 0x0200', 'link[0:1] & 0xffffffff != 0', 'ether[len - 4:4] = 1',
  'ip[0] % 3 + 1 = 0', 'ip[0] % 3 = 2', 'ip[0] & 3 ^ 1 = 0', 'ip[0] ^ 0x40 = 5', 'ip[8] * 2 = 128', 'ip[8] / 2 = 32',
  'ip[8] - 64 = 0', '-ip[8] = 4294967232', '- ip[8] + 64 = 0', 'ip[0] << 2 = 276', 'ip[0] >> 4 = 4', 'ip[0] | 1 = 0x45',
  'ip[0] & 0xf0 | 5 = 0x45', '1 + 2 * 3 = 7', '(1 + 2) * 3 = 9', '2 - 1 - 1 = 0', '16 / 4 / 2 = 2', '1 << 2 << 1 = 8',
  'ip[8] / ip[10] = 0', 'ip[8] % ip[10] = 0', 'len / 2 > 30', 'len % 7 = 3', 'len - 14 >= 40', 'len & 1 = 1', '0 = 0', '1 = 0',
  'ip[0] >> ip[1] = 0', '1 << ip[9] = 64', 'ip[9] << 28 = 0x60000000', 'tcp[0] + udp[1] = 3', 'udp[0] + tcp[1] = 3',
  'ip[ip[0] & 0xf] = 0', 'tcp[ip[0] - 0x45] = 0x1f', 'ip[1+1:2] > 0', '4294967295 + 1 = 0', '-1 = 4294967295',
  'ip[0] < 0x50', 'ip[0] <= 0x45', 'ip[0] > 0x44', 'ip[0] >= 0x45', 'ip[0] == 0x45', 'ip[0] != 0x45',
  'tcp[13] & 0x12 = 0x12 or udp', 'ip and tcp[13] = 2', 'ip6 and udp', 'ip6 and ip6[6] = 17',
  // precedence and qualifier inheritance
  'icmp or udp and ip[8] = 1', 'tcp and port 80 or udp', 'not tcp and not udp', 'not (tcp or udp)', '!tcp && !udp',
  'tcp || udp', 'not not ip', 'ip and not (arp or tcp)', '(ip)', '((tcp) or (udp))', 'host 10.0.0.1 and tcp or udp',
  'tcp port 80 and (host 10.0.0.1 or host 192.168.1.7)', 'not host 10.0.0.1 and 192.168.1.7',
  // vlan, mpls, pppoe
  'vlan', 'vlan 100', 'vlan 200', 'vlan and ip', 'vlan 100 and tcp port 80', 'vlan or ip', 'ip or vlan', 'vlan 100 or vlan 200',
  'not vlan and vlan', 'vlan and vlan', 'vlan 200 and vlan 100', 'ip or (vlan and ip)', 'vlan and ip6', 'vlan and udp port 53',
  'vlan and host 10.0.0.1', 'vlan 100 and ip[9] = 6', 'vlan and ether[12:2] = 0x800',
  'mpls', 'mpls 16', 'mpls and ip', 'mpls 16 and tcp port 80', 'mpls and host 10.0.0.1', 'mpls and mpls', 'mpls and ip6', 'mpls 17',
  'pppoed', 'pppoes', 'pppoes 0x3b', 'pppoes and ip', 'pppoes 0x3b and tcp port 80', 'pppoes and ip6', 'pppoes and host 10.0.0.1',
  // L4 tests after the encapsulations (run-time IHL, fragment test with DF set, protochain's refusal)
  'vlan and tcp portrange 70-90', 'vlan and tcp[13] & 2 != 0', 'vlan and icmp[icmptype] = icmp-echo', 'vlan and ip protochain 6',
  'vlan and ip6 protochain 17', 'vlan and udp[2:2] = 53', 'vlan and vlan and tcp port 80', 'mpls and portrange 50-90',
  'mpls and tcp[13] & 2 != 0', 'mpls and icmp', 'mpls and ip proto 6', 'mpls and mpls and udp', 'pppoes and portrange 50-90',
  'pppoes and tcp[13] & 2 != 0', 'pppoes and udp dst port 53', 'pppoes and icmp[0] = 8', 'pppoes and ip[6:2] & 0x1fff = 0',
  'pppoes and ip6 and tcp port 80', 'pppoes and ip protochain 6', 'vlan and pppoes and tcp port 80', 'vlan and mpls and ip',
  'vlan and mpls and tcp port 80', 'pppoes and tcp dst portrange 80-80',
  // link-dependent
  'inbound', 'outbound', 'ifindex 3', 'byte 12 = 8', 'byte 0 & 1', 'byte 0 | 0', 'byte 9 > 5', 'byte 9 < 7',
];
