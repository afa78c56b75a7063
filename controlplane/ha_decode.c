/* One packet to one JSON object: the headers the classifier found, the MH, or the error. */
#include <string.h>

#include "ha_decode.h"

static void put_ip(struct ha_json *j, const char *key, const struct ha_ip_hdr *ip)
{
	hj_obj_begin(j, key);
	hj_uint(j, "version", ip->ver);
	if (ip->ver == 4) {
		hj_ip4(j, "src", &ip->src4);
		hj_ip4(j, "dst", &ip->dst4);
		hj_uint(j, "ttl", ip->hop_limit);
	} else {
		hj_ip6(j, "src", &ip->src6);
		hj_ip6(j, "dst", &ip->dst6);
		hj_uint(j, "hop_limit", ip->hop_limit);
	}
	hj_uint(j, "protocol", ip->proto);
	if (ip->hao)
		hj_ip6(j, "home_address_option", &ip->hoa);
	if (ip->rh2) {
		hj_obj_begin(j, "routing_header_type2");
		hj_ip6(j, "home_address", &ip->rh2_hoa);
		hj_uint(j, "segments_left", ip->rh2_segleft);
		hj_obj_end(j);
	}
	hj_obj_end(j);
}

static void put_flags16(struct ha_json *j, uint16_t flags, const char *const names[16])
{
	hj_arr_begin(j, "flags");
	for (int b = 15; b >= 0; b--)
		if (flags >> b & 1)
			hj_str(j, NULL, names[15 - b] ? names[15 - b] : "reserved");
	hj_arr_end(j);
}

static const char *const bu_flag_names[16] = { "A", "H", "L", "K", "M", "R", "P", "F",
					       "T", "B", "S", "D" };
static const char *const ba_flag_names[16] = { "K", "R", "P", "T", "B", "S", "D" };
static const char *const br_flag_names[16] = { "P", "V", "G" };

static void put_option(struct ha_json *j, const struct mh_opts *o, uint8_t t, unsigned mnp_idx)
{
	hj_obj_begin(j, NULL);
	hj_uint(j, "type", t);
	hj_str(j, "name", mh_opt_name(t));
	switch (t) {
	case MH_OPT_BRA:
		hj_uint(j, "refresh_interval", o->refresh_advice);
		hj_uint(j, "refresh_interval_s", (uint32_t)o->refresh_advice * MH_LIFETIME_UNIT);
		break;
	case MH_OPT_ALTCOA:
		hj_ip6(j, "address", &o->alt_coa);
		break;
	case MH_OPT_NONCE:
		hj_uint(j, "home_nonce_index", o->home_nonce_index);
		hj_uint(j, "care_of_nonce_index", o->coa_nonce_index);
		break;
	case MH_OPT_AUTH:
		hj_hex(j, "authenticator", o->auth, sizeof(o->auth));
		break;
	case MH_OPT_MNP:
		hj_uint(j, "prefix_length", o->mnp[mnp_idx].prefix_len);
		hj_ip6(j, "prefix", &o->mnp[mnp_idx].prefix);
		break;
	case MH_OPT_MNID:
		hj_uint(j, "subtype", o->mnid_subtype);
		hj_strn(j, "identifier", (const char *)o->mnid, o->mnid_len);
		break;
	case MH_OPT_IPV4_HOA:
		hj_uint(j, "prefix_length", o->ipv4_hoa.prefix_len);
		hj_bool(j, "P", o->ipv4_hoa.p);
		hj_ip4(j, "address", &o->ipv4_hoa.addr);
		break;
	case MH_OPT_IPV4_ACK:
		hj_uint(j, "status", o->ipv4_ack.status);
		hj_uint(j, "prefix_length", o->ipv4_ack.prefix_len);
		hj_ip4(j, "address", &o->ipv4_ack.addr);
		break;
	case MH_OPT_NATD:
		hj_bool(j, "F", o->natd.f);
		hj_uint(j, "refresh_time", o->natd.refresh);
		break;
	case MH_OPT_IPV4_COA:
		hj_ip4(j, "address", &o->ipv4_coa);
		break;
	}
	hj_obj_end(j);
}

static void put_mh(struct ha_json *j, const struct mh_msg *m, bool complete)
{
	hj_obj_begin(j, "mh");
	hj_uint(j, "type", m->type);
	hj_str(j, "name", mh_type_name(m->type));
	hj_uint(j, "length", m->len);
	hj_uint(j, "checksum", m->checksum);
	if (!complete) {
		hj_obj_end(j);
		return;
	}
	switch (m->type) {
	case MH_TYPE_BU:
		hj_uint(j, "sequence", m->bu.seq);
		put_flags16(j, m->bu.flags, bu_flag_names);
		hj_uint(j, "lifetime", m->bu.lifetime);
		hj_uint(j, "lifetime_s", (uint32_t)m->bu.lifetime * MH_LIFETIME_UNIT);
		break;
	case MH_TYPE_BA: {
		const char *sn = mh_ba_status_name(m->ba.status);
		hj_uint(j, "status", m->ba.status);
		if (sn)
			hj_str(j, "status_name", sn);
		put_flags16(j, (uint16_t)(m->ba.flags << 8), ba_flag_names);
		hj_uint(j, "sequence", m->ba.seq);
		hj_uint(j, "lifetime", m->ba.lifetime);
		hj_uint(j, "lifetime_s", (uint32_t)m->ba.lifetime * MH_LIFETIME_UNIT);
		break;
	}
	case MH_TYPE_BE:
		hj_uint(j, "status", m->be.status);
		hj_ip6(j, "home_address", &m->be.hoa);
		break;
	case MH_TYPE_HOTI:
	case MH_TYPE_COTI:
		hj_hex(j, "cookie", m->rr.cookie, 8);
		break;
	case MH_TYPE_HOT:
	case MH_TYPE_COT:
		hj_uint(j, "nonce_index", m->rr.nonce_index);
		hj_hex(j, "cookie", m->rr.cookie, 8);
		hj_hex(j, "keygen_token", m->rr.keygen, 8);
		break;
	case MH_TYPE_HAS:
		hj_arr_begin(j, "home_agents");
		for (unsigned i = 0; i < m->has.n_addrs; i++)
			hj_ip6(j, NULL, &m->has.addrs[i]);
		hj_arr_end(j);
		break;
	case MH_TYPE_BR:
		hj_str(j, "revocation", m->br.br_type == MH_BR_BRI ? "indication" : "acknowledgement");
		hj_uint(j, m->br.br_type == MH_BR_BRI ? "trigger" : "status", m->br.trigger_status);
		if (m->br.br_type == MH_BR_BRI && mh_revocation_trigger_name(m->br.trigger_status))
			hj_str(j, "trigger_name", mh_revocation_trigger_name(m->br.trigger_status));
		hj_uint(j, "sequence", m->br.seq);
		put_flags16(j, m->br.flags, br_flag_names);
		break;
	}
	hj_arr_begin(j, "options");
	for (unsigned i = 0, mnp = 0; i < m->opts.n_order; i++)
		put_option(j, &m->opts, m->opts.order[i],
			   m->opts.order[i] == MH_OPT_MNP ? mnp++ : 0);
	hj_arr_end(j);
	if (m->opts.n_unknown) {
		hj_arr_begin(j, "unknown_options");
		for (unsigned i = 0; i < m->opts.n_unknown && i < MH_MAX_UNKNOWN; i++)
			hj_uint(j, NULL, m->opts.unknown_type[i]);
		hj_arr_end(j);
	}
	hj_obj_end(j);
}

static void put_error(struct ha_json *j, enum ha_err e, uint32_t offset)
{
	struct ha_err_disposition d = ha_err_disposition(e);

	hj_obj_begin(j, "error");
	hj_str(j, "name", ha_err_name(e));
	hj_str(j, "action", ha_action_name(d.action));
	if (d.action == HA_ACT_BA || d.action == HA_ACT_BE)
		hj_uint(j, "status", d.code);
	hj_uint(j, "offset", offset);
	hj_obj_end(j);
}

enum ha_err ha_decode_packet(const uint8_t *data, size_t len, bool ethernet, struct ha_pkt *p,
			     struct mh_msg *m, bool *mh_parsed)
{
	enum ha_err e = ethernet ? ha_pkt_classify_eth(data, len, p) : ha_pkt_classify(data, len, p);

	*mh_parsed = false;
	if (e == HA_OK && p->cls == HA_PKT_MH) {
		e = ha_pkt_parse_mh(data, p, m);
		*mh_parsed = true;
	}
	return e;
}

enum ha_err ha_decode_json(struct ha_json *j, uint64_t frame_no, const uint8_t *data, size_t len,
			   bool ethernet)
{
	struct ha_pkt p;
	struct mh_msg m;
	bool mh_parsed;
	enum ha_err e = ha_decode_packet(data, len, ethernet, &p, &m, &mh_parsed);

	hj_obj_begin(j, NULL);
	hj_uint(j, "frame", frame_no);
	hj_uint(j, "length", len);
	hj_str(j, "class", ha_pkt_class_name(p.cls));
	if (p.ethertype)
		hj_uint(j, "ethertype", p.ethertype);
	if (p.vlan)
		hj_uint(j, "vlan", p.vlan);
	if (p.outer.ver)
		put_ip(j, "outer", &p.outer);
	if (p.udp) {
		hj_obj_begin(j, "udp");
		hj_uint(j, "sport", p.sport);
		hj_uint(j, "dport", p.dport);
		hj_bool(j, "rfc5555_encapsulation", p.udp_encap);
		hj_obj_end(j);
	}
	if (p.inner.ver)
		put_ip(j, "inner", &p.inner);
	if (p.cls == HA_PKT_ESP) {
		hj_obj_begin(j, "esp");
		hj_uint(j, "spi", p.esp_spi);
		hj_uint(j, "sequence", p.esp_seq);
		hj_obj_end(j);
	}
	if (mh_parsed) {
		/* a message whose body decoded is shown whole, even when a transport rule failed */
		put_mh(j, &m, e == HA_OK || e == PKT_ERR_V4COA_NOT_UDP);
	}
	if (e != HA_OK)
		put_error(j, e, p.err_offset);
	hj_obj_end(j);
	hj_newline(j);
	return e;
}
