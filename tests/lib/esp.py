"""ESP for the test UE (RFC 4303), written with python3-cryptography, never the project's code:
AES-GCM-128/256 (RFC 4106: key || 4-octet salt, 8-octet explicit IV = the sequence number),
padding 1, 2, 3... (RFC 4303 2.4) to a multiple of 4."""
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def gcm_seal(spi, seq, key, payload, nh):
    """The ESP packet (header, IV, ciphertext, 16-octet ICV) carrying payload with next header
    nh, under key (key || salt), sequence number seq."""
    pad = (-(len(payload) + 2)) % 4
    plain = payload + bytes(range(1, pad + 1)) + bytes([pad, nh])
    hdr = struct.pack("!II", spi, seq)
    iv = struct.pack("!Q", seq)
    return hdr + iv + AESGCM(key[:-4]).encrypt(key[-4:] + iv, plain, hdr)


def gcm_open(body, key):
    """Decrypts and verifies an ESP packet; raises cryptography's InvalidTag on a bad ICV.
    @return (spi, seq, payload, next header); the padding is checked to be 1, 2, 3..."""
    hdr, iv = body[:8], body[8:16]
    plain = AESGCM(key[:-4]).decrypt(key[-4:] + iv, body[16:], hdr)
    pad, nh = plain[-2], plain[-1]
    if plain[-2 - pad:-2] != bytes(range(1, pad + 1)):
        raise ValueError(f"ESP padding not 1, 2, 3...: {plain[-2 - pad:-2].hex()}")
    spi, seq = struct.unpack("!II", hdr)
    return spi, seq, plain[:-2 - pad], nh


def scapy_gcm_sa(spi, key, tunnel_header=None, nat_t_header=None, seq=None):
    """scapy's own SecurityAssociation for AES-GCM (16-octet ICV; key || salt), as the other
    end of hadp's payload ESP: tunnel mode with tunnel_header (an IPv6() or IP()), transport
    without; in UDP (RFC 3948) with nat_t_header; seq: the next sequence number."""
    from scapy.layers.ipsec import ESP, SecurityAssociation
    s = SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key,
                            crypt_icv_size=16, tunnel_header=tunnel_header,
                            nat_t_header=nat_t_header)
    if seq is not None:
        s.seq_num = seq
    return s


def natt_fix(p):
    """scapy 2.5 leaves the NAT-T UDP header's length at 8 (its copy of nat_t_header was
    measured before the ESP went in): set it from the packet, checksum zero (RFC 3948 3.1.1)."""
    from scapy.all import IP, UDP, raw
    if UDP in p:
        p[UDP].len = None
        p[IP].len = None
        p[IP].chksum = None
    return IP(raw(p))
