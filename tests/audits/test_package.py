"""The signed audit package (issue 12, item 9): what it holds (the matrix, every evidence file of
the scope and window and nothing else, a manifest whose hashes are the files'), its signature,
the verification naming every file altered, removed or added, and the command line's errors."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from audits.models import Audit, SigningKey
from audits.package import keys
from audits.package.build import MANIFEST, MATRIX_CSV, MATRIX_XLSX, SIGNATURE, write_package
from compliance.models import AuditEvent
from controls.integrations import crypto
from evidence.models import EvidenceItem
from tests.conftest import World
from tests.factories import ControlFactory, map_control

pytestmark = pytest.mark.django_db


def build_zip(audit: Audit, world: World, user: str | None = "admin") -> bytes:
    out = io.BytesIO()
    write_package(audit=audit, user=world.users[user] if user else None, out=out)
    return out.getvalue()


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def evidence_names(files: dict[str, bytes]) -> set[str]:
    return {name for name in files if name.startswith("evidence/")}


@pytest.fixture
def program(world: World, make_evidence: Callable[..., EvidenceItem]) -> dict[str, EvidenceItem]:
    """Evidence in the window, outside it, of a control outside the scope, of another org."""
    outside_scope = ControlFactory(organization=world.org, ref_id="BCK-01", name="Backups")
    map_control(outside_scope, world.req_optional)
    return {
        "march": make_evidence(dt.date(2026, 3, 1), title="Access review Q1"),
        "june": make_evidence(
            dt.date(2026, 6, 30), control=world.unowned_control, title="Change log"
        ),
        "before": make_evidence(dt.date(2025, 12, 31), title="Old review"),
        "after": make_evidence(dt.date(2026, 7, 1), title="Later review"),
        "unscoped": make_evidence(dt.date(2026, 3, 1), control=outside_scope, title="Backup"),
    }


def test_a_package_holds_every_file_of_the_window_and_nothing_outside_it(
    world: World, engagement: Audit, program: dict[str, EvidenceItem]
) -> None:
    files = entries(build_zip(engagement, world))
    names = evidence_names(files)
    march, june = program["march"], program["june"]
    assert names == {
        f"evidence/{march.pk}-access-review-q1/r1-evidence-2026-03-01.pdf",
        f"evidence/{june.pk}-change-log/r1-evidence-2026-06-30.pdf",
    }
    for item in (march, june):
        path = next(n for n in names if n.startswith(f"evidence/{item.pk}-"))
        assert hashlib.sha256(files[path]).hexdigest() == item.latest_revision.sha256
    assert {MANIFEST, SIGNATURE, MATRIX_CSV, MATRIX_XLSX} <= set(files)


def test_the_manifest_lists_each_file_with_its_size_and_hash_and_names_the_engagement(
    world: World, engagement: Audit, program: dict[str, EvidenceItem]
) -> None:
    files = entries(build_zip(engagement, world))
    manifest = json.loads(files[MANIFEST])
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == evidence_names(files) | {MATRIX_CSV, MATRIX_XLSX}
    for path, entry in listed.items():
        assert entry["size"] == len(files[path])
        assert entry["sha256"] == hashlib.sha256(files[path]).hexdigest()
    engagement_info = manifest["engagement"]
    assert engagement_info["id"] == engagement.pk
    assert engagement_info["name"] == "SOC 2 Type II 2026"
    assert engagement_info["type"] == "Type II (over a period)"
    assert (engagement_info["period_start"], engagement_info["period_end"]) == (
        "2026-01-01",
        "2026-06-30",
    )
    assert engagement_info["organization"] == {"name": "Acme", "slug": "acme"}
    assert manifest["generated_at"]
    key = SigningKey.objects.get(organization=world.org)
    assert manifest["public_key"] == {"algorithm": "Ed25519", "key": key.public_key}
    public = keys.load_public_key(key.public_key)
    assert keys.signature_valid(public, files[SIGNATURE].decode(), files[MANIFEST])


def test_the_matrix_runs_from_requirement_to_control_owner_evidence_and_tests(
    world: World, engagement: Audit, program: dict[str, EvidenceItem]
) -> None:
    files = entries(build_zip(engagement, world))
    rows = list(csv.reader(io.StringIO(files[MATRIX_CSV].decode())))
    assert rows[0][:7] == [
        "Requirement", "Requirement title", "Control", "Control name", "Owner",
        "Evidence items", "Latest evidence",
    ]  # fmt: skip
    by_requirement = {row[0]: row for row in rows[1:]}
    assert set(by_requirement) == {"SEC1.1", "SEC1.2", "SEC1.3"}  # AV1.1 is out of scope
    assert by_requirement["SEC1.1"][2:7] == ["IAM-01", "MFA everywhere", "Owner", "1", "2026-03-01"]
    assert by_requirement["SEC1.2"][2:7] == [
        "CHG-01",
        "Changes are reviewed",
        "",
        "1",
        "2026-06-30",
    ]
    assert by_requirement["SEC1.3"][2:6] == ["", "(no control)", "", "0"]
    sheet = load_workbook(io.BytesIO(files[MATRIX_XLSX]), read_only=True)["Controls matrix"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == rows[0]
    assert [row[0] for row in values[1:]] == [row[0] for row in rows[1:]]
    assert values[1][6] == dt.datetime(2026, 3, 1)  # a real date in the workbook


def test_formulas_in_names_are_neutralised_in_both_matrices(
    world: World, engagement: Audit
) -> None:
    sneaky = ControlFactory(organization=world.org, ref_id="X-1", name='=HYPERLINK("http://x")')
    map_control(sneaky, world.req_gap)
    files = entries(build_zip(engagement, world))
    rows = list(csv.reader(io.StringIO(files[MATRIX_CSV].decode())))
    assert [row[3] for row in rows if row[2] == "X-1"] == ['\'=HYPERLINK("http://x")']
    sheet = load_workbook(io.BytesIO(files[MATRIX_XLSX]), read_only=True)["Controls matrix"]
    cells = [row[3] for row in sheet.iter_rows(values_only=True) if row[2] == "X-1"]
    assert cells == ['\'=HYPERLINK("http://x")']


def test_an_auditors_package_holds_what_the_auditor_sees(
    world: World, engagement: Audit, program: dict[str, EvidenceItem]
) -> None:
    as_admin = entries(build_zip(engagement, world, "admin"))
    as_auditor = entries(build_zip(engagement, world, "auditor"))
    assert evidence_names(as_auditor) == evidence_names(as_admin)
    assert len(evidence_names(as_auditor)) == 2


def test_the_key_is_made_once_and_its_private_half_is_stored_encrypted(
    world: World, engagement: Audit
) -> None:
    first = keys.signing_key(world.org)
    again = keys.signing_key(world.org)
    assert first.pk == again.pk and SigningKey.objects.count() == 1
    private = base64.b64decode(crypto.decrypt(first.private_key_encrypted)["ed25519"])
    assert private not in first.private_key_encrypted.encode()
    assert base64.b64encode(private).decode() not in first.private_key_encrypted
    assert AuditEvent.objects.filter(action="audit.signing_key_create").count() == 1


# --- verification -------------------------------------------------------------------------------


@pytest.fixture
def package_file(
    world: World, engagement: Audit, program: dict[str, EvidenceItem], tmp_path: Path
) -> Path:
    path = tmp_path / "package.zip"
    path.write_bytes(build_zip(engagement, world))
    return path


def rewrite(source: Path, target: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    files = entries(source.read_bytes())
    change(files)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return target


def verify(path: Path, *extra: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_audit_package", str(path), *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(path: Path, *extra: str) -> tuple[str, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_package", str(path), *extra, stdout=io.StringIO(), stderr=err)
    return str(failure.value), err.getvalue()


def org_key(world: World) -> str:
    return SigningKey.objects.get(organization=world.org).public_key


def test_an_intact_package_verifies_with_the_organizations_key(
    world: World, package_file: Path
) -> None:
    out, err = verify(package_file, "--public-key", org_key(world))
    assert out.startswith("OK  “SOC 2 Type II 2026”: signature valid, 4 files match")
    assert err == ""


def test_one_altered_byte_is_found_and_the_file_named(
    world: World, package_file: Path, tmp_path: Path
) -> None:
    target = sorted(evidence_names(entries(package_file.read_bytes())))[0]

    def flip(files: dict[str, bytes]) -> None:
        data = bytearray(files[target])
        data[10] ^= 0x01
        files[target] = bytes(data)

    message, err = refused(
        rewrite(package_file, tmp_path / "t.zip", flip), "--public-key", org_key(world)
    )
    assert err.splitlines() == [f"ALTERED  {target}"]
    assert "1 file problem(s)" in message


def test_a_removed_and_an_added_file_are_named(
    world: World, package_file: Path, tmp_path: Path
) -> None:
    target = sorted(evidence_names(entries(package_file.read_bytes())))[-1]

    def swap(files: dict[str, bytes]) -> None:
        del files[target]
        files["evidence/extra/planted.pdf"] = b"%PDF-1.4 planted"

    _, err = refused(
        rewrite(package_file, tmp_path / "t.zip", swap), "--public-key", org_key(world)
    )
    assert err.splitlines() == [f"REMOVED  {target}", "ADDED    evidence/extra/planted.pdf"]


def test_an_altered_manifest_breaks_the_signature(
    world: World, package_file: Path, tmp_path: Path
) -> None:
    target = sorted(evidence_names(entries(package_file.read_bytes())))[0]

    def forge(files: dict[str, bytes]) -> None:
        # Alter a file and "fix" its hash in the manifest: the signature gives it away.
        files[target] = b"%PDF-1.4 forged"
        manifest = json.loads(files[MANIFEST])
        for entry in manifest["files"]:
            if entry["path"] == target:
                entry["size"], entry["sha256"] = 15, hashlib.sha256(b"%PDF-1.4 forged").hexdigest()
        files[MANIFEST] = json.dumps(manifest).encode()

    message, err = refused(
        rewrite(package_file, tmp_path / "t.zip", forge), "--public-key", org_key(world)
    )
    assert err.startswith("BAD SIGNATURE")
    assert "bad signature" in message


def test_a_manifest_resigned_with_another_key_fails_against_the_organizations_key(
    world: World, package_file: Path, tmp_path: Path
) -> None:
    other = Ed25519PrivateKey.generate()
    other_public = base64.b64encode(
        other.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    ).decode()

    def resign(files: dict[str, bytes]) -> None:
        manifest = json.loads(files[MANIFEST])
        manifest["public_key"]["key"] = other_public
        files[MANIFEST] = json.dumps(manifest).encode()
        files[SIGNATURE] = base64.b64encode(other.sign(files[MANIFEST]))

    forged = rewrite(package_file, tmp_path / "t.zip", resign)
    out, _ = verify(forged)  # consistent with the key it carries…
    assert "checked with the key in the manifest" in out
    message, err = refused(forged, "--public-key", org_key(world))  # …but not the org's
    assert err.startswith("BAD SIGNATURE") and "bad signature" in message


def test_a_wrong_public_key_is_refused(world: World, package_file: Path) -> None:
    wrong = base64.b64encode(
        Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    ).decode()
    message, err = refused(package_file, "--public-key", wrong)
    assert "BAD SIGNATURE  manifest.json is not signed by the given public key" in err
    assert "does not verify" in message


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing", "No file at"),
        ("not_zip", "This is not a ZIP file"),
        ("no_manifest", "holds no manifest.json"),
        ("bad_key", "base64 of a raw 32-byte Ed25519 key"),
    ],
)
def test_the_verification_explains_what_it_cannot_read(
    package_file: Path, tmp_path: Path, setup: str, expected: str
) -> None:
    path, extra = package_file, ["--public-key", "not-a-key"] if setup == "bad_key" else []
    if setup == "missing":
        path = tmp_path / "nowhere.zip"
    elif setup == "not_zip":
        path = tmp_path / "x.zip"
        path.write_bytes(b"hello")
    elif setup == "no_manifest":
        path = rewrite(package_file, tmp_path / "t.zip", lambda f: f.pop(MANIFEST))
    message, _ = refused(path, *extra)
    assert expected in message


# --- the export command -------------------------------------------------------------------------


def test_the_export_command_writes_a_package_that_verifies(
    world: World, engagement: Audit, program: dict[str, EvidenceItem], tmp_path: Path
) -> None:
    target = tmp_path / "out.zip"
    out = io.StringIO()
    call_command("export_audit_package", "acme", str(engagement.pk), str(target), stdout=out)
    assert "2 evidence files, 3 matrix rows" in out.getvalue()
    assert not (tmp_path / "out.zip.partial").exists()
    verified, _ = verify(target, "--public-key", org_key(world))
    assert verified.startswith("OK")
    event = AuditEvent.objects.get(action="audit.package_export")
    assert event.after["file"] == "out.zip"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("slug", "No organization has the slug “nope”"),
        ("id", "“abc” is not an engagement id"),
        ("other_org", "Acme has no engagement with the id"),
        ("exists", "already exists"),
        ("folder", "does not exist"),
    ],
)
def test_the_export_command_refuses_bad_arguments_and_writes_nothing(
    world: World, engagement: Audit, tmp_path: Path, case: str, expected: str
) -> None:
    slug, audit_id, target = "acme", str(engagement.pk), tmp_path / "out.zip"
    if case == "slug":
        slug = "nope"
    elif case == "id":
        audit_id = "abc"
    elif case == "other_org":
        audit_id = str(engagement.pk + 1000)
    elif case == "exists":
        target.write_bytes(b"keep me")
    elif case == "folder":
        target = tmp_path / "missing" / "out.zip"
    with pytest.raises(CommandError) as failure:
        call_command("export_audit_package", slug, audit_id, str(target), stdout=io.StringIO())
    assert expected in str(failure.value)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "evidence") == (
        ["out.zip"] if case == "exists" else []
    )
    if case == "exists":
        assert target.read_bytes() == b"keep me"
    assert not AuditEvent.objects.filter(action="audit.package_export").exists()


def test_the_zip_is_well_formed_for_other_tools(world: World, package_file: Path) -> None:
    """The central directory is written from the spooled entries (audits.package.spool)."""
    import subprocess

    with zipfile.ZipFile(package_file) as archive:
        assert archive.testzip() is None
        assert len(archive.infolist()) == 6  # 2 evidence files, 2 matrices, manifest, signature
    listing = subprocess.run(  # noqa: S603 - Info-ZIP's own test of the archive
        ["/usr/bin/unzip", "-tq", str(package_file)], capture_output=True, text=True, check=False
    )
    assert listing.returncode == 0, listing.stdout + listing.stderr


def test_the_matrix_counts_the_test_runs_of_the_window(world: World, engagement: Audit) -> None:
    import zoneinfo

    from controls.models import TestRun, Trigger
    from controls.monitoring.services import control_test_create

    test = control_test_create(
        actor=world.users["admin"], control=world.control, name="Background checks",
        check_key="attest.personnel_requirement", parameters={"requirement": "background_check"},
    )  # fmt: skip
    zone = zoneinfo.ZoneInfo(world.org.time_zone)
    for day, status in [
        (dt.date(2026, 2, 1), "passed"), (dt.date(2026, 5, 1), "passed"),
        (dt.date(2026, 6, 30), "failed"), (dt.date(2026, 7, 1), "failed"),  # the last: outside
    ]:  # fmt: skip
        moment = dt.datetime.combine(day, dt.time(12), tzinfo=zone)
        TestRun.objects.create(
            control_test=test, organization=world.org, trigger=Trigger.SCHEDULE, status=status,
            started_at=moment, finished_at=moment,
        )  # fmt: skip
    rows = list(csv.reader(io.StringIO(entries(build_zip(engagement, world))[MATRIX_CSV].decode())))
    assert rows[0][7:11] == [
        "Test runs passed", "Test runs failed", "Test runs in error", "Last test run",
    ]  # fmt: skip
    row = next(r for r in rows if r[2] == "IAM-01")
    assert row[7:11] == ["2", "1", "0", "2026-06-30"]


def test_other_parts_of_the_app_add_matrix_columns(world: World, engagement: Audit) -> None:
    from audits.package import matrix

    def load(context: matrix.MatrixContext) -> matrix.RowValues:
        assert context.audit == engagement
        return lambda row: [f"+{row.requirement.ref_id}"]

    matrix.register_matrix_columns(matrix.MatrixColumns("extra", ("Extra",), 99, load))
    try:
        rows = list(
            csv.reader(io.StringIO(entries(build_zip(engagement, world))[MATRIX_CSV].decode()))
        )
    finally:
        matrix.MATRIX_COLUMNS[:] = [c for c in matrix.MATRIX_COLUMNS if c.key != "extra"]
    assert rows[0][-1] == "Extra"
    assert rows[1][-1] == "'+SEC1.1"  # a formula-looking value is neutralised too


def test_a_type_1_manifest_names_its_date(world: World, make_audit: Callable[..., Audit]) -> None:
    audit = make_audit(
        name="SOC 2 Type I", kind="type1", as_of=dt.date(2026, 3, 31), period_start=None,
        period_end=None, report_date=None,
    )  # fmt: skip
    manifest = json.loads(entries(build_zip(audit, world))[MANIFEST])
    assert manifest["engagement"]["type"] == "Type I (as of a date)"
    assert manifest["engagement"]["as_of"] == "2026-03-31"
    assert "period_start" not in manifest["engagement"]


def test_the_matrix_holds_the_auditors_requests_samples_and_findings(
    world: World, engagement: Audit
) -> None:
    from audits import pbc_services
    from audits.sampling import services as sampling_services
    from compliance.models import User

    auditor = User.objects.get(pk=world.users["auditor"].pk)
    pbc_services.request_create(
        actor=auditor, audit=engagement, title="MFA report", control=world.control
    )
    pbc_services.finding_create(
        actor=auditor, audit=engagement, title="One admin without MFA", severity="moderate",
        controls=[world.control],
    )  # fmt: skip
    from people.models import Person

    for n in range(3):
        Person.objects.create(
            organization=world.org, full_name=f"Hire {n}", email=f"hire{n}@acme.test",
            employment_type="employee", start_date=dt.date(2026, 2, 1 + n),
        )  # fmt: skip
    population = sampling_services.population_create(
        actor=auditor, audit=engagement, name="Hires", kind="new_hires", control=world.control
    )
    sampling_services.sample_draw(actor=auditor, population=population, size=2, seed=7)
    rows = list(csv.reader(io.StringIO(entries(build_zip(engagement, world))[MATRIX_CSV].decode())))
    header = rows[0]
    row = dict(zip(header, next(r for r in rows if r[2] == "IAM-01"), strict=True))
    assert (row["Requests"], row["Requests (PBC)"]) == ("1", "PBC-1 (open)")
    assert (row["Samples"], row["Samples drawn"]) == ("1", "Hires: 2 of 3 (seed 7)")
    assert (row["Findings"], row["Findings (exceptions)"]) == ("1", "F-1 moderate, open")
    other = dict(zip(header, next(r for r in rows if r[2] == "CHG-01"), strict=True))
    assert (other["Requests"], other["Samples"], other["Findings"]) == ("0", "0", "0")
