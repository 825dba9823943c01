"""GPT-2's (and CLIP's) reversible map of the 256 bytes to printable characters, shared by the byte-level BPE fixtures
(tools/make_text_fixture.py for CLIP's text tower, tools/make_gpt2_fixture.py for GPT-2 and RoBERTa)."""


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE = bytes_to_unicode()
