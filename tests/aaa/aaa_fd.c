#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <string.h>

#include "aaa_fd.h"

struct aaa_dict aaa_d;

static int lookup(enum dict_object_type type, int criteria, const void *what,
		  struct dict_object **out, const char *name)
{
	if (fd_dict_search(fd_g_config->cnf_dict, type, criteria, what, out, ENOENT) == 0 && *out)
		return 0;
	fd_log_error("the dictionary has no %s: load dict_nasreq, dict_eap, dict_rfc5777, "
		     "dict_mip6i, dict_dcca, dict_dcca_3gpp (LoadExtension, in this order)", name);
	return -1;
}

static void log_stderr(int level, const char *fmt, va_list ap)
{
	char ts[16];
	time_t t = time(NULL);
	struct tm tm;

	if (level < fd_g_debug_lvl)
		return;
	strftime(ts, sizeof(ts), "%H:%M:%S", localtime_r(&t, &tm));
	flockfile(stderr);
	fprintf(stderr, "%s ", ts);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void aaa_log_to_stderr(void)
{
	fd_log_handler_register(log_stderr);
}

int aaa_dict_init(void)
{
	struct dictionary *dict = fd_g_config->cnf_dict;
	application_id_t id = AAA_S6B_APP_ID;
	vendor_id_t vid = AAA_VENDOR_3GPP;

	if (lookup(DICT_VENDOR, VENDOR_BY_ID, &vid, &aaa_d.vendor, "3GPP vendor (10415)") < 0)
		return -1;
	/* S6b is not in freeDiameter's dictionaries (TS 29.273 9.1: application id 16777272) */
	if (fd_dict_search(dict, DICT_APPLICATION, APPLICATION_BY_ID, &id, &aaa_d.app, ENOENT)) {
		struct dict_application_data data = { AAA_S6B_APP_ID, "3GPP S6b" };
		int rc = fd_dict_new(dict, DICT_APPLICATION, &data, aaa_d.vendor, &aaa_d.app);
		if (rc) {
			fd_log_error("cannot define the S6b application: %s", strerror(rc));
			return -1;
		}
	}
#define X(f, n) \
	if (lookup(DICT_COMMAND, CMD_BY_NAME, n, &aaa_d.f, n) < 0) \
		return -1;
	AAA_DICT_CMDS(X)
#undef X
#define X(f, n) \
	if (lookup(DICT_AVP, AVP_BY_NAME_ALL_VENDORS, n, &aaa_d.f, n) < 0) \
		return -1;
	AAA_DICT_AVPS(X)
#undef X
	int rc = fd_disp_app_support(aaa_d.app, aaa_d.vendor, 1, 0);
	if (rc) {
		fd_log_error("cannot advertise S6b: %s", strerror(rc));
		return -1;
	}
	return 0;
}

int aaa_rule_optional(struct dict_object *cmd, struct dict_object *avp)
{
	struct dict_rule_request q = { cmd, avp };
	struct dict_object *rule = NULL;
	struct dict_rule_data d = { avp, RULE_OPTIONAL, 0, -1, 1 };

	if (fd_dict_search(fd_g_config->cnf_dict, DICT_RULE, RULE_BY_AVP_AND_PARENT, &q, &rule,
			   ENOENT) || fd_dict_delete(rule) ||
	    fd_dict_new(fd_g_config->cnf_dict, DICT_RULE, &d, cmd, NULL)) {
		fd_log_error("cannot make an AVP optional in a command's rules");
		return -1;
	}
	return 0;
}

static int add_value(msg_or_avp *parent, struct dict_object *model, union avp_value *v,
		     struct avp **out)
{
	struct avp *a = NULL;
	int rc = fd_msg_avp_new(model, 0, &a);

	if (!rc && v)
		rc = fd_msg_avp_setvalue(a, v);
	if (!rc)
		rc = fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, a);
	if (rc) {
		if (a)
			fd_msg_free(a);
		return rc;
	}
	if (out)
		*out = a;
	return 0;
}

int aaa_add_os(msg_or_avp *parent, struct dict_object *model, const void *data, size_t len)
{
	union avp_value v = { .os = { .data = (uint8_t *)(uintptr_t)data, .len = len } };

	return add_value(parent, model, &v, NULL);
}

int aaa_add_str(msg_or_avp *parent, struct dict_object *model, const char *s)
{
	return aaa_add_os(parent, model, s, strlen(s));
}

int aaa_add_u32(msg_or_avp *parent, struct dict_object *model, uint32_t u)
{
	struct dict_avp_data d;
	union avp_value v;

	fd_dict_getval(model, &d);
	if (d.avp_basetype == AVP_TYPE_INTEGER32)   /* Enumerated */
		v.i32 = (int32_t)u;
	else
		v.u32 = u;
	return add_value(parent, model, &v, NULL);
}

/* The Address type (RFC 6733 4.3.1): AddressType (IANA family 1 or 2), then the address. */
int aaa_add_addr(msg_or_avp *parent, struct dict_object *model, int family, const void *addr)
{
	uint8_t b[18];
	size_t n = family == AF_INET6 ? 16 : 4;

	b[0] = 0;
	b[1] = family == AF_INET6 ? 2 : 1;
	memcpy(b + 2, addr, n);
	return aaa_add_os(parent, model, b, 2 + n);
}

int aaa_add_group(msg_or_avp *parent, struct dict_object *model, struct avp **group)
{
	return add_value(parent, model, NULL, group);
}

struct avp_hdr *aaa_find(msg_or_avp *parent, struct dict_object *model)
{
	struct avp *a = NULL;

	if (fd_msg_browse(parent, MSG_BRW_FIRST_CHILD, &a, NULL))
		return NULL;
	while (a) {
		struct dict_object *m = NULL;
		struct avp_hdr *h = NULL;
		if (!fd_msg_model(a, &m) && m == model && !fd_msg_avp_hdr(a, &h) && h->avp_value)
			return h;
		if (fd_msg_browse(a, MSG_BRW_NEXT, &a, NULL))
			return NULL;
	}
	return NULL;
}

int aaa_get_str(msg_or_avp *parent, struct dict_object *model, char *buf, size_t sz)
{
	struct avp_hdr *h = aaa_find(parent, model);

	buf[0] = 0;
	if (!h)
		return -1;
	size_t n = h->avp_value->os.len < sz - 1 ? h->avp_value->os.len : sz - 1;
	memcpy(buf, h->avp_value->os.data, n);
	buf[n] = 0;
	return (int)n;
}

int aaa_get_u32(msg_or_avp *parent, struct dict_object *model, uint32_t *v)
{
	struct avp_hdr *h = aaa_find(parent, model);

	if (!h)
		return -1;
	*v = h->avp_value->u32;
	return 0;
}

uint32_t aaa_result(struct msg *m)
{
	uint32_t rc = 0;
	struct avp *er = NULL;

	if (aaa_get_u32(m, aaa_d.result_code, &rc) == 0)
		return rc;
	if (fd_msg_search_avp(m, aaa_d.exp_result, &er) == 0 && er &&
	    aaa_get_u32(er, aaa_d.exp_result_code, &rc) == 0)
		return rc;
	return 0;
}

int aaa_new_request(struct dict_object *cmd, const char *sid, struct msg **out)
{
	struct msg *m = NULL;
	struct msg_hdr *h = NULL;
	int rc = fd_msg_new(cmd, MSGFL_ALLOC_ETEID, &m);

	if (rc)
		return rc;
	fd_msg_hdr(m, &h);
	h->msg_appl = AAA_S6B_APP_ID;
	h->msg_flags |= CMD_FLAG_PROXIABLE;
	if (sid)
		rc = aaa_add_str(m, aaa_d.session_id, sid);
	else
		rc = fd_msg_new_session(m, NULL, 0);
	if (!rc)
		rc = fd_msg_add_origin(m, 0);
	if (!rc)
		rc = aaa_add_u32(m, aaa_d.auth_app_id, AAA_S6B_APP_ID);
	if (rc) {
		fd_msg_free(m);
		return rc;
	}
	*out = m;
	return 0;
}
