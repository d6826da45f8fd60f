/* The configuration file: INI like smb.conf, a typed key table, every error reported as file:line in one pass. */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#define SW_DEFAULT_CONFIG	"/etc/sharewarden/sharewarden.conf"

/* Snapshot backends ([snapshots] backend, per share "snapshots"). */
enum snap_kind {
	SNAP_DEFAULT,		/* a share without its own setting: [snapshots] backend */
	SNAP_AUTO,		/* btrfs when the share is on btrfs, none otherwise */
	SNAP_NONE,
	SNAP_BTRFS,
	SNAP_ZFS,
	SNAP_COMMAND,
};

/*
 * A protected share. The snapshot fields are filled from [snapshots] by
 * config_resolve_shares when the [share NAME] section did not set them, so
 * after resolution each is set ("" = not applicable).
 */
struct share {
	char *name;
	char *path;		/* absolute, no trailing slash (except "/") */
	int snap_kind;		/* enum snap_kind; never SNAP_DEFAULT after resolution */
	char *snap_dir;		/* btrfs, command: the folder holding one folder per snapshot ("" = beside the subvolume) */
	char *zfs_dataset;	/* zfs: the dataset ("" = the one mounted at path) */
	char *snap_create;	/* command: argv template; %P share path, %N snapshot name, %D snapshot folder */
	char *snap_delete;	/* command: argv template, as snap_create */
	struct share *next;
};

/* [snapshots]: schedule, retention and the defaults of every share. */
struct snap_cfg {
	int kind;			/* backend = auto */
	char *dir;			/* dir = ("" = <parent of the share's subvolume>/.snapshots/<share>); %S = share name */
	char *create_cmd;		/* create command = */
	char *delete_cmd;		/* delete command = */
	int64_t interval_ms;		/* interval = 15m (0 = no schedule) */
	int keep_recent;		/* keep recent = 4 */
	int keep_hourly;		/* keep hourly = 24 */
	int keep_daily;			/* keep daily = 14 */
	int at_detection;		/* at detection = yes */
};

/*
 * An SNMP agent: a switch to walk for the actor's MAC ([switch NAME]) or a
 * router whose ARP table gives the MAC of a routed client ([router NAME]).
 * Secrets are wiped by config_free.
 */
struct snmp_target {
	char *name;
	char *address;			/* address = host or host:port (UDP, default port 161) */
	int version;			/* version = 2c | 3 (2 or 3 here) */
	char *community;		/* community = (v2c; read, and write unless write community is set) */
	char *write_community;		/* write community = (v2c SETs; "" = community) */
	char *user;			/* user = (v3 security name) */
	char *auth_protocol;		/* auth protocol = SHA (MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512) */
	char *auth_password;		/* auth password = ("" = noAuthNoPriv) */
	char *priv_protocol;		/* priv protocol = AES (AES, DES) */
	char *priv_password;		/* priv password = ("" = authNoPriv) */
	int64_t timeout_ms;		/* timeout = 2s */
	int retries;			/* retries = 1 */
	char **vlans;			/* vlans = (Cisco per-VLAN BRIDGE-MIB: also read community@VLAN for each) */
	size_t n_vlans;
	char **protected_ports;		/* protected ports = (ifName or ifIndex never shut: uplinks, servers, phones) */
	size_t n_protected_ports;
	int max_macs;			/* max macs = 3: a port that learned more is an uplink, never shut */
	struct snmp_target *next;
};

/* [notify]: who hears about incidents, beyond syslog. */
struct notify_cfg {
	char *smtp_url;			/* smtp url = (smtp://host:587 or smtps://host:465; "" = no email) */
	int smtp_starttls;		/* starttls = yes: require STARTTLS on smtp:// */
	char *smtp_user;		/* smtp user = */
	char *smtp_password;		/* smtp password = (secret) */
	char *mail_from;		/* mail from = sharewarden@<hostname> */
	char **mail_to;			/* mail to = (list) */
	size_t n_mail_to;
	char **webhooks;		/* webhook = (list of http(s) URLs: the incident JSON is POSTed) */
	size_t n_webhooks;
	char *webhook_format;		/* webhook format = json (json | slack | teams) */
	char *ca_file;			/* ca file = (PEM bundle for TLS; "" = system) */
	int tls_verify;			/* tls verify = yes */
	int64_t timeout_ms;		/* timeout = 10s: per attempt */
	int64_t give_up_ms;		/* give up after = 24h: retries with backoff until then */
};

/* [fleet]: the other sharewarden servers, over NATS JetStream ("" nats = alone, as by default). */
struct fleet_cfg {
	char **nats;			/* nats = (server URLs: nats://host:4222, tls://host:4222; empty = no fleet) */
	size_t n_nats;
	char *site;			/* site = (required with nats: a name, letters, digits, _ -) */
	char *server;			/* server = <the host name> (the same rule) */
	char *user;			/* user = (NATS user; its account keeps one customer's fleet apart) */
	char *password_file;		/* password file = (root only, mode 0600) */
	char *credentials;		/* credentials = (a NATS .creds file: JWT and NKey seed, root only) */
	char *ca_file;			/* ca file = (PEM: the NATS servers' CA; set = TLS required) */
	char *cert_file;		/* cert file = (client certificate, when the servers ask for one) */
	char *key_file;			/* key file = */
	char *stream;			/* stream = SHAREWARDEN */
	int replicas;			/* replicas = 1 (3 in a 3-node cluster) */
	int64_t heartbeat_ms;		/* heartbeat = 10s */
	int64_t timeout_ms;		/* timeout = 2s: connect and each publish */
	int isolate;			/* isolate = yes: act on the other servers' incidents here too */
};

/* [replication]: where this server sends its shares' snapshots ("" target = no replication). */
struct repl_cfg {
	char *target;			/* target = [user@]host[:port] (the receiving server, over SSH) */
	char *ssh_key;			/* ssh key = (root only, mode 0600: the key the replica's forced command admits) */
	char *known_hosts;		/* known hosts = (the replica's host key: StrictHostKeyChecking=yes) */
	char *ssh;			/* ssh = /usr/bin/ssh */
	int64_t interval_ms;		/* interval = 15m: the daemon's cycles (0 = only `sharewarden replicate`) */
	int64_t settle_ms;		/* settle = 2m: a snapshot is sent only once this old */
	char *bandwidth;		/* bandwidth = 0 (bytes/s, K M G suffixes; 0 = unlimited) */
	int64_t bandwidth_bps;		/* bandwidth, parsed */
	int64_t timeout_ms;		/* timeout = 60s: a send that moves no byte for this long is stopped */
};

/* [replica]: this server keeps other servers' replicas (`sharewarden receive`, an SSH forced command). */
struct replica_cfg {
	char *dir;			/* dir = (btrfs: one folder per sender and share; "" = no replicas kept) */
	char *zfs_dataset;		/* zfs dataset = (zfs: received under DATASET/SENDER/SHARE) */
	int keep_recent;		/* keep recent = 8 */
	int keep_hourly;		/* keep hourly = 24 */
	int keep_daily;			/* keep daily = 30 */
};

/* Weights and thresholds of detection ([detect]). */
struct detect_cfg {
	int64_t window_ms;		/* window = 60s */
	double incident_score;		/* incident score = 10 */
	double w_note;			/* note weight = 10: a known ransom-note name */
	double w_note_weak;		/* weak note weight = 2: a common name that is also a note (readme.txt) */
	double w_ext;			/* extension weight = 5: a known ransomware extension */
	double w_wildcard;		/* wildcard weight = 3: an imported wildcard pattern */
	int rename_burst;		/* rename burst = 5: renames to one new extension within window */
	double w_rename_burst;		/* rename burst weight = 10 */
	double w_overwrite_rename;	/* overwrite rename weight = 3: a file written then renamed to another extension */
	double w_canary;		/* canary weight = 1000: a canary written, renamed or deleted */
	double w_format_broken;		/* format broken weight = 4: a written file whose format no longer matches its name */
	double w_ciphertext;		/* ciphertext weight = 3: a new file of near-random bytes in no known format */
	double w_read_overwrite;	/* read overwrite weight = 1: a file read, then overwritten in place */
	double w_copy_delete;		/* copy delete weight = 2: a new file written, then the file it copies deleted */
	int delete_burst;		/* delete burst = 50: deletions within window */
	double w_delete_burst;		/* delete burst weight = 3 */
	int64_t slow_window_ms;		/* slow window = 1h: how long content signals count (slow attacks) */
	int max_actors;			/* max actors = 10000: users+IPs kept in memory; the least recently active go */
};

struct config {
	char *file;			/* the file it was read from */
	/* [global] */
	char *journal;			/* journal = /var/lib/sharewarden/journal.db */
	char *audit_log;		/* audit log = /var/log/samba/audit.log ("" = none) */
	char *audit_socket;		/* audit socket = (unix datagram socket path; "" = none) */
	char *samba_config;		/* samba config = /etc/samba/smb.conf */
	char *samba_bin_dir;		/* samba bin dir = /usr/bin (smbstatus, smbcontrol, pdbedit, testparm) */
	int64_t smbstatus_timeout_ms;	/* smbstatus timeout = 5s: a hung smbstatus is killed after this */
	int shares_auto;		/* shares = auto: every disk share of smb.conf */
	char **share_names;		/* shares = a, b: names taken from smb.conf or [share NAME] sections */
	size_t n_share_names;
	struct share *shares;		/* resolved list (config_resolve_shares) */
	char *patterns;			/* patterns = /var/lib/sharewarden/patterns.list (written by import-patterns) */
	int64_t event_retention_ms;	/* event retention = 7d */
	int monitor_only;		/* monitor only = no */
	char **protected_accounts;	/* protected accounts = root, administrator */
	size_t n_protected;
	char **protected_groups;	/* protected groups = (AD groups whose members are never locked) */
	size_t n_protected_groups;
	char *account_backend;		/* account backend = tdbsam | samba-ad-dc | ldap */
	char *ad_database;		/* ad database = the DC's sam.ldb (samba-ad-dc) */
	char *ldap_uri;			/* ldap uri = ldaps://dc1.example.com or ldap://... (StartTLS) (ldap) */
	char *ldap_base;		/* ldap base = DC=example,DC=com: where accounts are searched */
	char *ldap_bind_dn;		/* ldap bind dn = the delegated service account's DN */
	char *ldap_password_file;	/* ldap password file = /etc/sharewarden/ldap.secret (root only, mode 0600) */
	char *ldap_ca_file;		/* ldap ca file = (the CA of the DC's certificate; empty: the system's) */
	int64_t ldap_timeout_ms;	/* ldap timeout = 3s: for the connection and each request */
	int log_level;			/* log level = info (enum log_level) */
	int fanotify;			/* kernel events = yes: fanotify on the shares' filesystems (root, Linux) */
	int content_analysis;		/* content analysis = yes: check written files for ciphertext */
	int canaries;			/* canaries = yes: seed decoy files in each share */
	char **allow_users;		/* allow users = (never an actor: backup service accounts ...) */
	size_t n_allow_users;
	char **allow_ips;		/* allow ips = (addresses whose activity is never scored) */
	size_t n_allow_ips;
	char **allow_paths;		/* allow paths = (path prefixes inside shares never scored) */
	size_t n_allow_paths;
	char **allow_shares;		/* allow shares = (share names never scored) */
	size_t n_allow_shares;
	/* [detect] */
	struct detect_cfg detect;
	/* [respond] */
	int lock_account;		/* lock account = yes */
	int kill_session;		/* kill session = yes */
	int deny_writer;		/* deny writer = yes: fanotify denies the actor's opens at once */
	int block_ip;			/* block ip = yes: nftables drops the actor's IP to the SMB ports */
	int port_down;			/* port down = yes: shut the switch port of the actor's MAC (SNMP) */
	int max_isolations;		/* max isolations per hour = 3: circuit breaker, then report only */
	char **dry_run;			/* dry run = (responder kinds that only say what they would do) */
	size_t n_dry_run;
	char *nft_table;		/* firewall table = sharewarden (table inet NAME, sharewarden's own) */
	char **smb_ports;		/* smb ports = 445, 139 */
	size_t n_smb_ports;
	/* [network] */
	struct snmp_target *switches;	/* [switch NAME] sections, in file order */
	struct snmp_target *routers;	/* [router NAME] sections */
	char **dhcp_leases;		/* dhcp leases = (dnsmasq, ISC dhcpd or Kea memfile lease files) */
	size_t n_dhcp_leases;
	/* [notify] */
	struct notify_cfg notify;
	/* [snapshots] */
	struct snap_cfg snap;
	/* [fleet] */
	struct fleet_cfg fleet;
	/* [replication], [replica] */
	struct repl_cfg repl;
	struct replica_cfg replica;
	/* [restore] */
	int64_t restore_lookback_ms;	/* look back = 0s: also undo the actor's changes this long before its first event */
	int restore_verify;		/* verify = yes: hash every restored file against the snapshot */
};

/* Whether kind ("port_down", "block_ip" ...) is listed in [respond] dry run. */
int config_dry_run(const struct config *cfg, const char *kind);

/* "auto", "none", "btrfs", "zfs", "command". */
const char *snap_kind_name(int kind);

/* Fills cfg with the built-in defaults. */
void config_defaults(struct config *cfg);

/*
 * Reads path over the defaults. Every error is written to errs as
 * "file:line: message" (or "file: message") and parsing goes on, so one pass
 * reports them all. Returns the number of errors (0 = usable).
 */
int config_load(const char *path, struct config *cfg, FILE *errs);

/*
 * Builds cfg->shares: [share NAME] sections, and with "shares = auto" or names
 * not defined in a section, the shares of smb.conf (testparm -s). Errors as in
 * config_load. Returns the number of errors.
 */
int config_resolve_shares(struct config *cfg, FILE *errs);

/* Full path of a Samba tool ("smbstatus") in samba_bin_dir, in buf. */
const char *config_samba_tool(const struct config *cfg, const char *tool, char *buf, size_t bufsz);
int config_is_protected(const struct config *cfg, const char *user);
void config_free(struct config *cfg);

#endif
