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
