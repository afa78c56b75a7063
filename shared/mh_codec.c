/* Mobility Header parser and builder. Layouts: protocol.md sections 1-3, 8, 9. */
#include <string.h>

#include "ha_bytes.h"
#include "mh_codec.h"

struct mh_type_info {
	bool known;
	uint8_t min_hlen;
	const char *name;
};

static const struct mh_type_info type_info[256] = {
#define X(e, v, nm, minlen) [v] = { true, minlen, nm },
#include "mh_types.def"
#undef X
};

struct mh_opt_info {
	bool known;
	uint8_t align_n, align_off;
	int data_len;
	const char *name;
};

static const struct mh_opt_info opt_info[256] = {
#define X(e, v, nm, an, ao, len) [v] = { true, an, ao, len, nm },
#include "mh_options.def"
#undef X
};

const char *mh_type_name(uint8_t type)
{
	return type_info[type].known ? type_info[type].name : "unknown";
}

const char *mh_opt_name(uint8_t type)
{
	return opt_info[type].known ? opt_info[type].name : "unknown";
}

const char *mh_ba_status_name(uint8_t status)
{
	switch (status) {
#define X(e, v, nm) case v: return nm;
#include "mh_ba_status.def"
#undef X
	}
	return NULL;
}

const char *mh_revocation_trigger_name(uint8_t trigger)
{
	switch (trigger) {
#define X(e, v, nm) case v: return nm;
#include "mh_revocation_trigger.def"
#undef X
	}
	return NULL;
}

/* ---- options ---------------------------------------------------------------------------- */

static void decode_opt(uint8_t type, const uint8_t *d, uint8_t len, struct mh_opts *o)
{
	switch (type) {
	case MH_OPT_BRA:
		o->refresh_advice = ha_rd16(d);
		break;
	case MH_OPT_ALTCOA:
		memcpy(&o->alt_coa, d, 16);
		break;
	case MH_OPT_NONCE:
		o->home_nonce_index = ha_rd16(d);
		o->coa_nonce_index = ha_rd16(d + 2);
		break;
	case MH_OPT_AUTH:
		memcpy(o->auth, d, 12);
		break;
	case MH_OPT_MNP: {
		struct mh_mnp *m = &o->mnp[o->n_mnp++];
		m->prefix_len = d[1];
		memcpy(&m->prefix, d + 2, 16);
		break;
	}
	case MH_OPT_MNID:
		o->mnid_subtype = d[0];
		o->mnid_len = (uint8_t)(len - 1);
		memcpy(o->mnid, d + 1, o->mnid_len);
		break;
	case MH_OPT_IPV4_HOA:
		o->ipv4_hoa.prefix_len = d[0] >> 2;
		o->ipv4_hoa.p = (d[0] >> 1) & 1;
		memcpy(&o->ipv4_hoa.addr, d + 2, 4);
		break;
	case MH_OPT_IPV4_ACK:
		o->ipv4_ack.status = d[0];
		o->ipv4_ack.prefix_len = d[1] >> 2;
		memcpy(&o->ipv4_ack.addr, d + 2, 4);
		break;
	case MH_OPT_NATD:
		o->natd.f = (d[0] & 0x80) != 0;
		o->natd.refresh = ha_rd32(d + 2);
		break;
	case MH_OPT_IPV4_COA:
		memcpy(&o->ipv4_coa, d + 2, 4);
		break;
	}
}

/* Walk the options in [off, end). Unknown options are skipped by their length (RFC 6275 6.2.1);
 * known ones must have their exact length and alignment and appear once (MNP excepted). */
static enum ha_err parse_opts(const uint8_t *buf, size_t off, size_t end, struct mh_msg *m)
{
	struct mh_opts *o = &m->opts;
	bool auth_seen = false;

	while (off < end) {
		uint8_t type = buf[off];

		m->err_offset = (uint16_t)off;
		if (type == MH_OPT_PAD1) {
			off++;
			continue;
		}
		if (off + 2 > end || off + 2 + buf[off + 1] > end)
			return MH_ERR_OPT_OVERRUN;
		uint8_t len = buf[off + 1];
		const struct mh_opt_info *inf = &opt_info[type];

		if (type == MH_OPT_PADN) {
			off += 2u + len;
			continue;
		}
		if (auth_seen)
			return MH_ERR_OPT_NOT_LAST; /* RFC 6275 6.2.7: Authorization Data is last */
		if (!inf->known) {
			if (o->n_unknown < MH_MAX_UNKNOWN)
				o->unknown_type[o->n_unknown] = type;
			if (o->n_unknown < UINT8_MAX)
				o->n_unknown++;
			off += 2u + len;
			continue;
		}
		if (inf->data_len >= 0 ? len != inf->data_len : (type == MH_OPT_MNID && len < 2))
			return MH_ERR_OPT_LENGTH;
		if (off % inf->align_n != inf->align_off)
			return MH_ERR_OPT_ALIGN;
		if (type == MH_OPT_MNP) {
			if (o->n_mnp == MH_MAX_MNP)
				return MH_ERR_OPT_TOO_MANY;
		} else if (MH_HAS_OPT(o, type)) {
			return MH_ERR_OPT_DUPLICATE;
		}
		MH_SET_OPT(o, type);
		o->order[o->n_order++] = type;
		decode_opt(type, buf + off + 2, len, o);
		auth_seen = type == MH_OPT_AUTH;
		off += 2u + len;
	}
	m->err_offset = 0;
	return HA_OK;
}

/* ---- messages --------------------------------------------------------------------------- */

enum ha_err mh_parse(const uint8_t *buf, size_t len, const struct mh_pseudo *ph,
		     struct mh_msg *out)
{
	size_t mhlen, opt_off;

	memset(out, 0, sizeof(*out));
	if (len < 8)
		return MH_ERR_TRUNCATED;
	out->payload_proto = buf[0];
	out->type = buf[2];
	out->checksum = ha_rd16(buf + 4);
	mhlen = ((size_t)buf[1] + 1) * 8;
	out->len = (uint16_t)mhlen;
	if (mhlen > len) {
		out->err_offset = 1;
		return MH_ERR_TRUNCATED;
	}
	/* RFC 6275 9.2: a bad checksum is discarded before anything else is looked at */
	if (ph && mh_checksum(ph, buf, mhlen) != 0) {
		out->err_offset = 4;
		return MH_ERR_CHECKSUM;
	}
	if (buf[0] != MH_IPPROTO_NONE)
		return MH_ERR_PAYLOAD_PROTO; /* pointer: offset 0 */
	if (!type_info[out->type].known) {
		out->err_offset = 2;
		return MH_ERR_UNKNOWN_TYPE;
	}
	if (buf[1] < type_info[out->type].min_hlen) {
		out->err_offset = 1;
		return MH_ERR_HDR_LEN;
	}

	const uint8_t *d = buf + 6;
	switch (out->type) {
	case MH_TYPE_BRR:
		opt_off = 8;
		break;
	case MH_TYPE_HOTI:
	case MH_TYPE_COTI:
		memcpy(out->rr.cookie, d + 2, 8);
		opt_off = 16;
		break;
	case MH_TYPE_HOT:
	case MH_TYPE_COT:
		out->rr.nonce_index = ha_rd16(d);
		memcpy(out->rr.cookie, d + 2, 8);
		memcpy(out->rr.keygen, d + 10, 8);
		opt_off = 24;
		break;
	case MH_TYPE_BU:
		out->bu.seq = ha_rd16(d);
		out->bu.flags = ha_rd16(d + 2);
		out->bu.lifetime = ha_rd16(d + 4);
		opt_off = 12;
		break;
	case MH_TYPE_BA:
		out->ba.status = d[0];
		out->ba.flags = d[1];
		out->ba.seq = ha_rd16(d + 2);
		out->ba.lifetime = ha_rd16(d + 4);
		opt_off = 12;
		break;
	case MH_TYPE_BE:
		out->be.status = d[0];
		memcpy(&out->be.hoa, d + 2, 16);
		opt_off = 24;
		break;
	case MH_TYPE_HAS:
		out->has.n_addrs = d[0];
		opt_off = 8 + 16 * (size_t)d[0];
		if (opt_off > mhlen) {
			out->err_offset = 6;
			return MH_ERR_BODY_LENGTH;
		}
		memcpy(out->has.addrs, d + 2, 16 * (size_t)d[0]);
		break;
	case MH_TYPE_BR:
		out->br.br_type = d[0];
		out->br.trigger_status = d[1];
		out->br.seq = ha_rd16(d + 2);
		out->br.flags = ha_rd16(d + 4);
		if (d[0] != MH_BR_BRI && d[0] != MH_BR_BRA) {
			out->err_offset = 6;
			return MH_ERR_BR_TYPE;
		}
		opt_off = 12;
		break;
	default:
		return MH_ERR_UNKNOWN_TYPE; /* unreachable: type_info says known */
	}
	return parse_opts(buf, opt_off, mhlen, out);
}

/* ---- builder ---------------------------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
};

static uint8_t *wput(struct wbuf *w, size_t n)
{
	if (w->overflow || w->len + n > w->cap) {
		w->overflow = true;
		return NULL;
	}
	uint8_t *r = w->p + w->len;
	memset(r, 0, n);
	w->len += n;
	return r;
}

/* Pad1 or PadN so that the next option starts at offset = off (mod n) (RFC 6275 6.2). */
static void wpad(struct wbuf *w, unsigned n, unsigned off)
{
	size_t need = (off + n - w->len % n) % n;
	uint8_t *p;

	if (need == 1) {
		wput(w, 1); /* Pad1 is a single zero octet */
	} else if (need > 1 && (p = wput(w, need))) {
		p[0] = MH_OPT_PADN;
		p[1] = (uint8_t)(need - 2);
	}
}

static void wopt(struct wbuf *w, const struct mh_opts *o, uint8_t type, unsigned mnp_idx)
{
	const struct mh_opt_info *inf = &opt_info[type];
	uint8_t len = type == MH_OPT_MNID ? (uint8_t)(o->mnid_len + 1) : (uint8_t)inf->data_len;
	uint8_t *p;

	wpad(w, inf->align_n, inf->align_off);
	if (!(p = wput(w, 2u + len)))
		return;
	p[0] = type;
	p[1] = len;
	uint8_t *d = p + 2;
	switch (type) {
	case MH_OPT_BRA:
		ha_wr16(d, o->refresh_advice);
		break;
	case MH_OPT_ALTCOA:
		memcpy(d, &o->alt_coa, 16);
		break;
	case MH_OPT_NONCE:
		ha_wr16(d, o->home_nonce_index);
		ha_wr16(d + 2, o->coa_nonce_index);
		break;
	case MH_OPT_AUTH:
		memcpy(d, o->auth, 12);
		break;
	case MH_OPT_MNP:
		d[1] = o->mnp[mnp_idx].prefix_len;
		memcpy(d + 2, &o->mnp[mnp_idx].prefix, 16);
		break;
	case MH_OPT_MNID:
		d[0] = o->mnid_subtype;
		memcpy(d + 1, o->mnid, o->mnid_len);
		break;
	case MH_OPT_IPV4_HOA:
		d[0] = (uint8_t)((o->ipv4_hoa.prefix_len & 0x3F) << 2 | (o->ipv4_hoa.p ? 2 : 0));
		memcpy(d + 2, &o->ipv4_hoa.addr, 4);
		break;
	case MH_OPT_IPV4_ACK:
		d[0] = o->ipv4_ack.status;
		d[1] = (uint8_t)((o->ipv4_ack.prefix_len & 0x3F) << 2);
		memcpy(d + 2, &o->ipv4_ack.addr, 4);
		break;
	case MH_OPT_NATD:
		d[0] = o->natd.f ? 0x80 : 0;
		ha_wr32(d + 2, o->natd.refresh);
		break;
	case MH_OPT_IPV4_COA:
		memcpy(d + 2, &o->ipv4_coa, 4);
		break;
	}
}

/* Order used when the caller gives none: Authorization Data must be last (RFC 6275 6.2.7). */
static const uint8_t canonical_order[] = {
	MH_OPT_BRA, MH_OPT_ALTCOA, MH_OPT_NONCE, MH_OPT_MNP, MH_OPT_MNID, MH_OPT_IPV4_HOA,
	MH_OPT_IPV4_ACK, MH_OPT_NATD, MH_OPT_IPV4_COA, MH_OPT_AUTH,
};

static bool wopts(struct wbuf *w, const struct mh_opts *o)
{
	unsigned mnp_idx = 0;

	if (o->n_mnp > MH_MAX_MNP || o->mnid_len > MH_MAX_MNID - 1 || o->n_order > MH_MAX_ORDER)
		return false;
	if (o->n_order) {
		uint64_t emitted = 0;
		for (unsigned i = 0; i < o->n_order; i++) {
			uint8_t t = o->order[i];
			if (!opt_info[t].known || t <= MH_OPT_PADN || !MH_HAS_OPT(o, t))
				return false;
			if (t == MH_OPT_MNP) {
				if (mnp_idx >= o->n_mnp)
					return false;
				wopt(w, o, t, mnp_idx++);
			} else {
				if ((emitted >> t) & 1)
					return false;
				wopt(w, o, t, 0);
			}
			emitted |= 1ull << t;
		}
		/* every present option must have been placed */
		if ((o->present & ~(1ull << MH_OPT_PAD1 | 1ull << MH_OPT_PADN)) != emitted ||
		    mnp_idx != o->n_mnp)
			return false;
		return true;
	}
	for (unsigned i = 0; i < sizeof(canonical_order); i++) {
		uint8_t t = canonical_order[i];
		if (!MH_HAS_OPT(o, t))
			continue;
		if (t == MH_OPT_MNP) {
			for (mnp_idx = 0; mnp_idx < o->n_mnp; mnp_idx++)
				wopt(w, o, t, mnp_idx);
		} else {
			wopt(w, o, t, 0);
		}
	}
	if (MH_HAS_OPT(o, MH_OPT_MNP) != (o->n_mnp > 0))
		return false;
	return true;
}

int mh_build(const struct mh_msg *m, const struct mh_pseudo *ph, uint8_t *buf, size_t cap)
{
	struct wbuf w = { .p = buf, .cap = cap };
	uint8_t *h = wput(&w, MH_FIXED_LEN), *d;

	if (!h || !type_info[m->type].known)
		return -1;
	h[0] = MH_IPPROTO_NONE;
	h[2] = m->type;
	switch (m->type) {
	case MH_TYPE_BRR:
		wput(&w, 2);
		break;
	case MH_TYPE_HOTI:
	case MH_TYPE_COTI:
		if ((d = wput(&w, 10)))
			memcpy(d + 2, m->rr.cookie, 8);
		break;
	case MH_TYPE_HOT:
	case MH_TYPE_COT:
		if ((d = wput(&w, 18))) {
			ha_wr16(d, m->rr.nonce_index);
			memcpy(d + 2, m->rr.cookie, 8);
			memcpy(d + 10, m->rr.keygen, 8);
		}
		break;
	case MH_TYPE_BU:
		if ((d = wput(&w, 6))) {
			ha_wr16(d, m->bu.seq);
			ha_wr16(d + 2, m->bu.flags);
			ha_wr16(d + 4, m->bu.lifetime);
		}
		break;
	case MH_TYPE_BA:
		if ((d = wput(&w, 6))) {
			d[0] = m->ba.status;
			d[1] = m->ba.flags;
			ha_wr16(d + 2, m->ba.seq);
			ha_wr16(d + 4, m->ba.lifetime);
		}
		break;
	case MH_TYPE_BE:
		if ((d = wput(&w, 18))) {
			d[0] = m->be.status;
			memcpy(d + 2, &m->be.hoa, 16);
		}
		break;
	case MH_TYPE_HAS:
		if (m->has.n_addrs > MH_MAX_HAS)
			return -1;
		if ((d = wput(&w, 2 + 16 * (size_t)m->has.n_addrs))) {
			d[0] = m->has.n_addrs;
			memcpy(d + 2, m->has.addrs, 16 * (size_t)m->has.n_addrs);
		}
		break;
	case MH_TYPE_BR:
		if (m->br.br_type != MH_BR_BRI && m->br.br_type != MH_BR_BRA)
			return -1;
		if ((d = wput(&w, 6))) {
			d[0] = m->br.br_type;
			d[1] = m->br.trigger_status;
			ha_wr16(d + 2, m->br.seq);
			ha_wr16(d + 4, m->br.flags);
		}
		break;
	}
	if (!wopts(&w, &m->opts))
		return -1;
	wpad(&w, 8, 0); /* the MH is a multiple of 8 octets (RFC 6275 6.1.1) */
	if (w.overflow || w.len > MH_MAX_LEN)
		return -1;
	buf[1] = (uint8_t)(w.len / 8 - 1);
	if (ph)
		ha_wr16(buf + 4, mh_checksum(ph, buf, w.len));
	return (int)w.len;
}
