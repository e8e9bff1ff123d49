# ruff: noqa: E501  (the library entries are prose: one string per answer reads better unwrapped)
"""A labelled set for the answer library's suggestions, built on Google's VSAQ questionnaires.

The library entries below are written for Attest (no VSAQ text is copied here); VSAQ's question
ids are facts. LABELS maps VSAQ question ids to the entry (by key) that answers them; UNANSWERED
lists VSAQ questions the library deliberately has no entry for: a suggestion there is a false one.
The question texts are read from the VSAQ files at run time (``vsaq_questions``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

# shared/ sits beside the repository (BENCH_VSAQ_DIR overrides: a worktree sits one level deeper).
VSAQ_DIR = Path(
    os.environ.get("BENCH_VSAQ_DIR")
    or next(
        (
            str(parent / "shared" / "data" / "questionnaires" / "vsaq")
            for parent in Path(__file__).resolve().parents
            if (parent / "shared" / "data" / "questionnaires" / "vsaq").is_dir()
        ),
        "shared/data/questionnaires/vsaq",
    )
)
VSAQ_FILES = ("infrastructure", "physical_and_datacenter", "security_privacy_programs", "webapp")
QUESTION_TYPES = {"yesno", "radiogroup", "checkgroup", "line", "box"}

# key -> (question, answer); written for this benchmark.
ENTRIES: dict[str, tuple[str, str]] = {
    "firewall": (
        "Do you restrict inbound and outbound network traffic with firewalls?",
        "Yes. Cloud security groups and host firewalls deny by default; rules are reviewed quarterly.",
    ),
    "segmentation": (
        "Is the production network segmented from the corporate and other networks?",
        "Production runs in its own VPCs, split into zones by function and risk; no flat network.",
    ),
    "dmz": (
        "Are internet-facing systems isolated in a DMZ?",
        "Only load balancers face the internet, in public subnets; application hosts stay private.",
    ),
    "transit_encryption": (
        "Is traffic inside your network encrypted in transit?",
        "Service-to-service traffic uses TLS 1.2 or later, including inside the VPC.",
    ),
    "network_monitoring": (
        "Do you monitor the network and alert on security events?",
        "Flow logs and an IDS feed our SIEM; on-call is paged for high-severity alerts.",
    ),
    "central_logs": (
        "Are system and network device logs collected centrally?",
        "All hosts, firewalls and DNS logs ship to a central, append-only log store.",
    ),
    "log_retention": (
        "How long do you keep security logs, and are they reviewed?",
        "Security logs are kept for 13 months and reviewed daily by automated rules plus a weekly human review.",
    ),
    "wifi": (
        "Does office Wi-Fi give access to internal systems?",
        "No. Office Wi-Fi is internet-only, WPA3-Enterprise; production is reached only through SSO and the VPN.",
    ),
    "vpn": (
        "Do you have a VPN for remote access, and does it require multi-factor authentication?",
        "Remote administrative access goes through a VPN that requires SSO with hardware-key MFA.",
    ),
    "hardening": (
        "Do you have hardening standards or baselines for servers?",
        "Servers are built from hardened images following CIS benchmarks, documented and versioned.",
    ),
    "config_mgmt": (
        "How do you manage and audit server configuration?",
        "Infrastructure as code; drift detection runs daily and changes go through review.",
    ),
    "patching": (
        "How do you patch operating systems and applications on servers?",
        "Images are rebuilt weekly with the latest patches; critical fixes ship within 72 hours under an emergency process.",
    ),
    "patch_testing": (
        "Are patches tested before production?",
        "Patched images roll to staging first and must pass the test suite before production.",
    ),
    "admin_access": (
        "How is privileged administrative access controlled and reviewed?",
        "Admins use separate privileged roles, granted just in time; access is reviewed quarterly.",
    ),
    "backups": (
        "Do you back up data, and are backups encrypted and stored off-site?",
        "Daily encrypted snapshots replicated to a second region; 35 days retention.",
    ),
    "backup_tests": (
        "Do you test restoring from backups?",
        "A restore is tested every quarter and the result recorded.",
    ),
    "endpoint_malware": (
        "Are laptops protected against malware?",
        "Every laptop runs managed EDR; alerts go to the security team.",
    ),
    "endpoint_encryption": (
        "Are laptops and removable media encrypted?",
        "Full-disk encryption is enforced by MDM on every laptop; removable media is blocked.",
    ),
    "endpoint_patching": (
        "How are employee laptops kept up to date?",
        "MDM enforces OS updates within 14 days and blocks outdated devices from SSO.",
    ),
    "mobile": (
        "Can staff access company data from phones, and are those devices managed?",
        "Only from enrolled devices with a passcode and encryption, through the managed email app.",
    ),
    "pentest": (
        "Do independent third parties perform penetration tests?",
        "An external firm tests the application and infrastructure every year, including manual testing.",
    ),
    "pentest_summary": (
        "Can you share your latest penetration test summary?",
        "Yes, under NDA: request it on our trust page.",
    ),
    "vuln_scanning": (
        "Do you run vulnerability scans, and with which tools?",
        "Weekly authenticated scans of hosts and container images, plus dependency scanning in CI.",
    ),
    "security_contact": (
        "How can we contact your security team or report a vulnerability?",
        "security@ and our security.txt; researchers are thanked and triaged within two business days.",
    ),
    "security_program": (
        "Do you have an information security program, and who leads it?",
        "Yes, owned by the Head of Security and reviewed by leadership each year.",
    ),
    "standards": (
        "Which security standards or frameworks does your program follow?",
        "SOC 2 (Security, Availability) and ISO/IEC 27001:2022.",
    ),
    "external_audit": (
        "Are you audited by an independent third party, and can you share the report?",
        "Yes: a SOC 2 Type II audit each year; the report is shared under NDA.",
    ),
    "internal_audit": (
        "Do you perform internal audits of your security program?",
        "Internal audits cover every control once a year; findings are tracked to closure.",
    ),
    "vendor_mgmt": (
        "How do you assess the security of your vendors and subprocessors?",
        "Vendors are tiered by risk, reviewed before onboarding and yearly, and bound by security clauses in contracts.",
    ),
    "change_mgmt": (
        "Do you have a documented change management process?",
        "Every change is peer reviewed, tested in CI and recorded; security reviews risky changes.",
    ),
    "incident_response": (
        "Do you have a documented incident response plan?",
        "Yes, tested twice a year, with named roles and an on-call rotation.",
    ),
    "incident_notification": (
        "Will you notify customers of a security incident affecting their data?",
        "Affected customers are notified without undue delay, within 72 hours of confirmation.",
    ),
    "least_privilege": (
        "Is access to data granted on a need-to-know basis?",
        "Access is role-based and least privilege, requested and approved in the access tool.",
    ),
    "offboarding": (
        "Is access removed when someone leaves or changes roles?",
        "HR triggers deprovisioning: SSO and all accounts are disabled on the last day.",
    ),
    "background_checks": (
        "Do you run background checks on employees?",
        "Yes, before hire, where the law allows, for every employee and contractor.",
    ),
    "training": (
        "Do employees receive security awareness training?",
        "At hire and every year, plus phishing simulations.",
    ),
    "physical_policy": (
        "Do you have physical security controls for your offices?",
        "Badge access, visitor logs and CCTV; no production systems in offices.",
    ),
    "datacenter": (
        "Which data centers or cloud providers host customer data, and where?",
        "AWS in eu-west-1 and eu-central-1; their SOC 2 reports are reviewed yearly.",
    ),
    "password_storage": (
        "How does your application store user passwords?",
        "Passwords are hashed with Argon2id; SSO and MFA are available to every customer.",
    ),
    "sessions": (
        "How are user sessions protected and when do they expire?",
        "HttpOnly, Secure, SameSite cookies; sessions expire after 12 hours idle and on logout.",
    ),
    "xss": (
        "How do you protect the application against cross-site scripting?",
        "Templates escape output by default, a strict CSP blocks inline scripts, and we review risky code.",
    ),
    "sqli": (
        "How do you prevent SQL injection?",
        "All queries go through the ORM or parameterized statements; raw SQL needs review.",
    ),
    "tls_config": (
        "What TLS configuration do you offer to clients?",
        "TLS 1.2+ only with forward-secret cipher suites, HSTS enabled; terminated at the load balancer.",
    ),
    "secure_sdlc": (
        "Do your engineers follow secure development practices and security testing?",
        "Threat modelling for new features, security code review, SAST in CI and yearly secure coding training.",
    ),
}

# VSAQ question id -> the entry key that answers it.
LABELS: dict[str, str] = {
    "network_firewalls": "firewall",
    "network_separation": "segmentation",
    "network_dmz": "dmz",
    "network_encryption": "transit_encryption",
    "network_monitoring": "network_monitoring",
    "network_monitoring_security": "network_monitoring",
    "network_centrallogging": "central_logs",
    "network_wifi": "wifi",
    "network_vpn": "vpn",
    "servers_hardening": "hardening",
    "servers_hardening_requirements_writing": "hardening",
    "servers_configmgmt_audit": "config_mgmt",
    "servers_patching": "patching",
    "servers_patching_schedule_exceptions": "patching",
    "servers_patching_tests": "patch_testing",
    "servers_logging_retention": "log_retention",
    "servers_logging_central": "central_logs",
    "servers_admin_auditing": "admin_access",
    "servers_backup_media_offsite": "backups",
    "servers_backup_media_encryption": "backups",
    "servers_backup_test": "backup_tests",
    "clients_av": "endpoint_malware",
    "clients_patching": "endpoint_patching",
    "clients_media_encryption": "endpoint_encryption",
    "clients_mobile_phones": "mobile",
    "testing_pentests": "pentest",
    "testing_pentests_sharesummary": "pentest_summary",
    "testing_scans_software": "vuln_scanning",
    "security_contacts": "security_contact",
    "application_vm_securitycontact": "security_contact",
    "office_policy": "physical_policy",
    "dc_countries": "datacenter",
    "dc_provider": "datacenter",
    "secprog": "security_program",
    "secprog_team": "security_program",
    "secprog_standard_name": "standards",
    "secprog_extaudits_sharereports": "external_audit",
    "secprog_intaudits_scope": "internal_audit",
    "secprog_vendorsec_clauses": "vendor_mgmt",
    "secprog_vendorsec_owner": "vendor_mgmt",
    "secprog_changemgmt_documented": "change_mgmt",
    "secprog_incidents_procedures": "incident_response",
    "secprog_incidents_inform": "incident_notification",
    "secprog_peopleops_needtoknow": "least_privilege",
    "secprog_peopleops_leaver": "offboarding",
    "secprog_background_checks": "background_checks",
    "application_custom_auth_storage_other_what": "password_storage",
    "application_auth_cookies_timeout_length": "sessions",
    "application_xss_other_explanation": "xss",
    "application_sqli_other_details": "sqli",
    "application_ssl_configuration_pfs": "tls_config",
    "application_testing_qa_security": "secure_sdlc",
}

# VSAQ questions the library has no answer for: any suggestion here is a false one.
UNANSWERED = [
    "network_arpspoofing",
    "network_outsourced_company",
    "servers_admin_linux_root",
    "servers_email_inbound_tls",
    "clients_winxp",
    "testing_inhouse_fte",
    "office_facilities_excl",
    "dc_monitoring",
    "application_sqli_orm_which",
    "application_plugin_other_which",
    "application_upload_type_other_expl",
    "application_authz_xssi_protections",
    "application_auth_cookies_framework_which",
    "secprog_privacy_policy_uri",
    "application_description",
]


def _load(path: Path) -> Any:
    """VSAQ files are JavaScript-flavoured JSON: a // header, and "a" + "b" concatenations."""
    text = "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("//")
    )
    return json.loads(re.sub(r'"\s*\+\s*"', "", text))


def _walk(node: Any, found: dict[str, str]) -> None:
    if isinstance(node, dict):
        ident = node.get("id")
        if ident and node.get("type") in QUESTION_TYPES and node.get("text"):
            found[ident] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", node["text"])).strip()
        for value in node.values():
            _walk(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk(value, found)


def vsaq_questions(directory: Path = VSAQ_DIR) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in VSAQ_FILES:
        _walk(_load(directory / f"{name}.json"), found)
    return found
