#!/usr/bin/python3
# postfix_tls_fix.py: an Ansible module around postfix-tls-fix, so that a
# fleet gets Ansible's own check mode and diff display. It reads only the
# tool's documented JSON report (docs/json-schema.md, schemaVersion 1).

DOCUMENTATION = r"""
module: postfix_tls_fix
short_description: Add SNI (servername=hostname) where Postfix verifies TLS certificates without it
description:
  - Runs C(postfix-tls-fix check). In check mode runs C(diff) and reports the
    host changed when apply would write a file; otherwise runs C(apply).
  - With --diff, shows the unified diff of every file apply writes (or would write).
  - Fails on errors in the configuration (exit status 2: nothing was written)
    and when apply stopped after replacing some files (exit status 3: the
    result lists them; run again to complete).
options:
  binary: {description: The installed postfix-tls-fix., type: path, default: /usr/sbin/postfix-tls-fix}
  config_directory: {description: The Postfix configuration directory., type: path, default: /etc/postfix}
  backup: {description: Keep FILE.bak copies of replaced files., type: bool, default: true}
  acknowledge: {description: Tables the tool cannot edit that were checked by hand., type: list, elements: str, default: []}
  postfix_version: {description: The Postfix version to write for (empty asks the installed one)., type: str, default: ""}
"""

RETURN = r"""
reload_needed: {description: Whether a replaced file needs postfix reload., type: bool}
findings: {description: The tool's findings, in its own words (text)., type: list}
needs_person: {description: Findings a person must act on (manual, error)., type: list}
changed_files: {description: Files apply wrote (or would write)., type: list}
rebuilt_indexes: {description: Indexes apply rebuilt (or would rebuild)., type: list}
"""

import json

from ansible.module_utils.basic import AnsibleModule


def run(module, subcommand):
    p = module.params
    argv = [p["binary"], "-c", p["config_directory"], "--color", "never"]
    if p["postfix_version"]:
        argv += ["--postfix-version", p["postfix_version"]]
    for table in p["acknowledge"]:
        argv += ["--acknowledge", table]
    argv += [subcommand, "--format", "json"]
    if subcommand == "apply" and p["backup"]:
        argv.append("--backup")
    rc, out, err = module.run_command(argv)
    try:
        report = json.loads(out)
    except ValueError:
        module.fail_json(msg="%s %s printed no JSON report (exit status %d): %s" % (p["binary"], subcommand, rc, err.strip()))
    if report.get("schemaVersion") != 1:
        module.fail_json(msg="unknown report schemaVersion %r" % report.get("schemaVersion"))
    return rc, report, err


def result(report):
    findings = report["findings"]
    return dict(
        reload_needed=report["reloadNeeded"],
        findings=[f["text"] for f in findings],
        needs_person=[f["text"] for f in findings if f["severity"] in ("manual", "error")],
        changed_files=[f["path"] for f in report["changedFiles"]],
        rebuilt_indexes=[i["path"] for i in report["rebuiltIndexes"]],
        diff=[dict(before_header=f["path"], after_header=f["path"], prepared=f["diff"] or "") for f in report["changedFiles"]],
    )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type="path", default="/usr/sbin/postfix-tls-fix"),
            config_directory=dict(type="path", default="/etc/postfix"),
            backup=dict(type="bool", default=True),
            acknowledge=dict(type="list", elements="str", default=[]),
            postfix_version=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    rc, check, err = run(module, "check")
    if rc == 2:
        module.fail_json(msg=check["error"] or err.strip() or "errors in the configuration; nothing written", **result(check))
    if not check["changed"]:
        module.exit_json(changed=False, **result(check))
    if module.check_mode:
        rc, diff, err = run(module, "diff")
        if rc == 2:
            module.fail_json(msg=diff["error"] or err.strip(), **result(diff))
        module.exit_json(changed=diff["changed"], **result(diff))
    rc, applied, err = run(module, "apply")
    if rc == 3:
        module.fail_json(msg=applied["error"], changed=True, **result(applied))
    if rc != 0:
        module.fail_json(msg=applied["error"] or err.strip(), **result(applied))
    module.exit_json(changed=applied["changed"], **result(applied))


if __name__ == "__main__":
    main()
