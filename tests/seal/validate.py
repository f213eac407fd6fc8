#!/usr/bin/env python3
"""Validates sealed PDFs with pyHanko, a validator outside Paraaf.

    validate.py TRUST.pem FILE.pdf [--lta] [--expect valid|invalid]

For `valid` (the default) the seal (the last /ETSI.CAdES.detached signature) must be
intact, cryptographically valid, trusted (chain to a certificate in TRUST.pem: the seal's
root, the TSA's root), cover the entire file (or, with --lta, every revision but the
DSS and document time stamp after it), be a PAdES signature and carry a valid signature
time stamp (B-T). With --lta pyHanko also validates it as PAdES B-LTA: long-term
validation with the PADES_LTA profile (a document time stamp over a DSS), revocation
data required for every certificate and taken only from the file (nothing is fetched).
For `invalid` it must fail. Prints pyHanko's own report; exits 1 when the expectation
does not hold.
"""
import sys

from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
import asyncio

from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)


def lta_validation(sig, roots):
    """pyHanko's AdES long-term validation (ETSI EN 319 102-1 5.6.3, as `pyhanko sign
    adesverify`): revocation data required for every certificate, taken from the file
    only (nothing fetched), the chain of document time stamps as evidence record."""
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=roots),
        revinfo_policy=CertRevTrustPolicy(
            REQUIRE_REVINFO,
            freshness=None,
            freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
        ),
    )
    spec = PdfSignatureValidationSpec(
        signature_validation_spec=SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
                certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH,
            ),
        ),
        diff_policy=DEFAULT_DIFF_POLICY,
    )
    return asyncio.run(ades_lta_validation(sig, spec, timing_info=ValidationTimingInfo.now()))

args = sys.argv[1:]
lta = "--lta" in args
args = [a for a in args if a != "--lta"]
root, path = args[0], args[1]
expect = args[3] if len(args) > 3 and args[2] == "--expect" else "valid"
roots = list(load_certs_from_pemder([root]))
vc = ValidationContext(trust_roots=roots, allow_fetching=False)

ok = False
try:
    with open(path, "rb") as f:
        reader = PdfFileReader(f, strict=False)
        seals = [
            s for s in reader.embedded_signatures
            if s.sig_object.get("/SubFilter") == "/ETSI.CAdES.detached"
        ]
        if not seals:
            print(f"{path}: no seal")
        else:
            sig = seals[-1]
            if lta:
                result = lta_validation(sig, roots)
                status = result.api_status
                print(f"  AdES indication: {result.ades_subindic}")
                if result.failure_msg:
                    print(f"  AdES failure: {result.failure_msg}")
                print(f"  oldest document time stamp: {result.oldest_evidence_record_timestamp}")
            else:
                status = validate_pdf_signature(sig, vc, ts_validation_context=vc)
            print(status.pretty_print_details())
            ts = status.timestamp_validity
            last = sig is reader.embedded_signatures[-1]
            coverage = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
                lta and status.coverage >= SignatureCoverageLevel.ENTIRE_REVISION
            )
            checks = {
                "intact": status.intact,
                "valid": status.valid,
                "trusted": status.trusted,
                "bottom_line": status.bottom_line,
                "entire file" if not lta else "entire revision, only LTV updates after": coverage
                and (last or lta),
                "PAdES": sig.sig_object.get("/SubFilter") == "/ETSI.CAdES.detached",
                "timestamped": ts is not None and ts.intact and ts.valid and ts.trusted,
            }
            if lta:
                dts = reader.embedded_signatures[-1]
                checks["document time stamp last (B-LTA)"] = (
                    dts.sig_object.get("/Type") == "/DocTimeStamp"
                    and dts.sig_object.get("/SubFilter") == "/ETSI.RFC3161"
                )
                checks["DSS"] = "/DSS" in reader.root
                checks["AdES long-term validation passed"] = result.ades_subindic == AdESPassed.OK
                checks["evidence record (document time stamps)"] = (
                    result.oldest_evidence_record_timestamp is not None
                )
                checks["only LTA updates after the seal"] = (
                    status.modification_level is not None
                    and status.modification_level <= ModificationLevel.LTA_UPDATES
                )
            for k, v in checks.items():
                print(f"  {k}: {'yes' if v else 'NO'}")
            ok = all(checks.values())
except Exception as e:  # a damaged file is INVALID, which is what a flipped byte may give
    print(f"{path}: {type(e).__name__}: {e}")
    ok = False

print(f"{path}: {'VALID' if ok else 'INVALID'}{' (PAdES B-LTA)' if ok and lta else ''}")
if (expect == "valid") != ok:
    print(f"expected {expect.upper()}", file=sys.stderr)
    sys.exit(1)
