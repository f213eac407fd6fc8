#!/usr/bin/env python3
"""Validates sealed PDFs with pyHanko, a validator outside Paraaf.

    validate.py TRUST.pem FILE.pdf [--expect valid|invalid]

For `valid` (the default) the last signature must be intact, cryptographically valid,
trusted (chain to a certificate in TRUST.pem: the seal's root, the TSA's root), cover the entire file, be a PAdES signature
(/ETSI.CAdES.detached) and carry a valid signature time stamp (B-T). For `invalid` it
must fail. Prints pyHanko's own report; exits 1 when the expectation does not hold.
"""
import sys

from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

root, path = sys.argv[1], sys.argv[2]
expect = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--expect" else "valid"
vc = ValidationContext(trust_roots=list(load_certs_from_pemder([root])), allow_fetching=False)

ok = False
try:
    with open(path, "rb") as f:
        reader = PdfFileReader(f, strict=False)
        sigs = reader.embedded_signatures
        if not sigs:
            print(f"{path}: no signature")
        else:
            sig = sigs[-1]
            status = validate_pdf_signature(sig, vc, ts_validation_context=vc)
            print(status.pretty_print_details())
            ts = status.timestamp_validity
            checks = {
                "intact": status.intact,
                "valid": status.valid,
                "trusted": status.trusted,
                "bottom_line": status.bottom_line,
                "entire file": status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
                "PAdES": sig.sig_object.get("/SubFilter") == "/ETSI.CAdES.detached",
                "timestamped": ts is not None and ts.intact and ts.valid and ts.trusted,
            }
            for k, v in checks.items():
                print(f"  {k}: {'yes' if v else 'NO'}")
            ok = all(checks.values())
except Exception as e:  # a damaged file is INVALID, which is what a flipped byte may give
    print(f"{path}: {type(e).__name__}: {e}")
    ok = False

print(f"{path}: {'VALID' if ok else 'INVALID'}")
if (expect == "valid") != ok:
    print(f"expected {expect.upper()}", file=sys.stderr)
    sys.exit(1)
