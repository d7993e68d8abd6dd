// PostfixDefaults.swift: Postfix 3.7's built-in defaults (as Debian 12's
// `postconf -d NAME` prints them, Postfix 3.7.11) for the parameters this
// tool reads. Values are raw: $names in them are expanded by
// ParameterExpander like any main.cf value.
//
// Only these parameters are here. Expanding a default that refers to others
// (proxy_read_maps does, to some 70 parameters) leaves those unresolved and
// reports them in ParameterExpansion.unresolvedNames. mail_version is not
// here on purpose: it is compiled into the installed Postfix, so ask it.

public enum PostfixDefaults {
    /// The default value, or nil when Postfix 3.7 has no such parameter.
    public static func value(_ name: String) -> [UInt8]? {
        table[name].map { Array($0.utf8) }
    }

    /// Every parameter with a default here, sorted.
    public static let parameterNames: [String] = table.keys.sorted()

    /// Read by the tool but unknown to 3.7 (added in 3.11; its default there
    /// is "disable"): `value` is nil, which callers read as "disable".
    public static let unknownIn37: [String] = ["non_bdb_migration_level"]

    private static let table: [String: String] = [
        // Where main.cf, master.cf and relative paths in $config_directory live.
        "config_directory": "/etc/postfix",
        // Relative map paths resolve against it (daemons chdir there).
        "queue_directory": "/var/spool/postfix",
        // Decides smtputf8_enable's default (and with it postmap's UTF-8 checks).
        "compatibility_level": "0",
        // postmap skips non-UTF-8 source lines when this is on.
        "smtputf8_enable": "${{$compatibility_level} <level {1} ? {no} : {yes}}",
        // What a map type of "default" would mean; never relied on for hash:.
        "default_database_type": "hash",
        // The smtp(8) policy tables to inspect.
        "smtp_tls_policy_maps": "",
        // The smtp(8) level without a table entry (verify/secure need SNI).
        "smtp_tls_security_level": "",
        // Non-empty means SNI is already sent where nothing overrides it.
        "smtp_tls_servername": "",
        // Obsolete: "yes" means level encrypt (or verify with the next one).
        "smtp_enforce_tls": "no",
        // Obsolete: with smtp_enforce_tls, "yes" means level verify.
        "smtp_tls_enforce_peername": "yes",
        // Obsolete: "yes" means level may.
        "smtp_use_tls": "no",
        // Obsolete per-site table, used only when smtp_tls_policy_maps is empty.
        "smtp_tls_per_site": "",
        // The lmtp(8) policy tables (no inheritance from smtp_*).
        "lmtp_tls_policy_maps": "",
        // The lmtp(8) level without a table entry.
        "lmtp_tls_security_level": "",
        // lmtp(8)'s SNI setting.
        "lmtp_tls_servername": "",
        // Obsolete lmtp counterpart of smtp_enforce_tls.
        "lmtp_enforce_tls": "no",
        // Obsolete lmtp counterpart of smtp_tls_enforce_peername.
        "lmtp_tls_enforce_peername": "yes",
        // Obsolete lmtp counterpart of smtp_use_tls.
        "lmtp_use_tls": "no",
        // Obsolete lmtp counterpart of smtp_tls_per_site.
        "lmtp_tls_per_site": "",
        // Other instances' config directories (postmulti).
        "multi_instance_directories": "",
        // Whether postmulti manages several instances.
        "multi_instance_enable": "no",
        // Whether a proxy: policy map is allowed through proxymap.
        "proxy_read_maps": "$local_recipient_maps $mydestination $virtual_alias_maps $virtual_alias_domains $virtual_mailbox_maps $virtual_mailbox_domains $relay_recipient_maps $relay_domains $canonical_maps $sender_canonical_maps $recipient_canonical_maps $relocated_maps $transport_maps $mynetworks $smtpd_sender_login_maps $sender_bcc_maps $recipient_bcc_maps $smtp_generic_maps $lmtp_generic_maps $alias_maps $smtpd_client_restrictions $smtpd_helo_restrictions $smtpd_sender_restrictions $smtpd_relay_restrictions $smtpd_recipient_restrictions $address_verify_sender_dependent_default_transport_maps $address_verify_sender_dependent_relayhost_maps $address_verify_transport_maps $fallback_transport_maps $lmtp_discard_lhlo_keyword_address_maps $lmtp_pix_workaround_maps $lmtp_sasl_password_maps $lmtp_tls_policy_maps $mailbox_command_maps $mailbox_transport_maps $postscreen_discard_ehlo_keyword_address_maps $rbl_reply_maps $sender_dependent_default_transport_maps $sender_dependent_relayhost_maps $smtp_discard_ehlo_keyword_address_maps $smtp_pix_workaround_maps $smtp_sasl_password_maps $smtp_tls_policy_maps $smtpd_discard_ehlo_keyword_address_maps $smtpd_milter_maps $virtual_gid_maps $virtual_uid_maps $local_login_sender_maps $postscreen_reject_footer_maps $smtpd_reject_footer_maps $tls_server_sni_maps $tlsproxy_client_policy_maps $default_delivery_status_filter $lmtp_delivery_status_filter $lmtp_dns_reply_filter $lmtp_reply_filter $local_delivery_status_filter $pipe_delivery_status_filter $postscreen_command_filter $smtp_delivery_status_filter $smtp_dns_reply_filter $smtp_reply_filter $smtpd_command_filter $smtpd_dns_reply_filter $virtual_delivery_status_filter $body_checks $header_checks $lmtp_body_checks $lmtp_header_checks $lmtp_mime_header_checks $lmtp_nested_header_checks $milter_header_checks $mime_header_checks $nested_header_checks $smtp_body_checks $smtp_header_checks $smtp_mime_header_checks $smtp_nested_header_checks",
        // tlsproxy(8)'s client tables; inherit smtp_tls_policy_maps.
        "tlsproxy_client_policy_maps": "${tlsproxy_client_policy:$smtp_tls_policy_maps}",
        // tlsproxy(8)'s client level; inherits smtp_tls_security_level.
        "tlsproxy_client_security_level": "${tlsproxy_client_level:$smtp_tls_security_level}",
        // Old name of tlsproxy_client_security_level, still honoured.
        "tlsproxy_client_level": "",
        // Old name of tlsproxy_client_policy_maps, still honoured.
        "tlsproxy_client_policy": "",
    ]
}
