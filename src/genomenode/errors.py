"""Every error genomenode raises on purpose, rooted in one class.

    GenomenodeError
    ├── InputError                       bad input from a user; nothing was changed
    │   ├── VcfFormatError (ValueError)  unreadable/invalid VCF: file, line or record named
    │   │   └── UnsortedVcfError
    │   ├── ReferenceMismatchError       REF does not match --reference
    │   ├── SampleSheetError             sample sheet invalid or disagreeing with the VCF
    │   ├── AssemblyError                unknown assembly or another than the dataset's
    │   ├── DuplicateSampleError         sample id repeated, or already loaded without --replace
    │   ├── InvalidRegionError (ValueError)
    │   ├── InvalidVariantError (ValueError)
    │   ├── UnknownGeneError (LookupError)
    │   ├── BeaconRequestError (ValueError)  a Beacon request the spec or this beacon cannot answer
    │   ├── PedigreeError (ValueError)   a PED file or Phenopacket family that is malformed or inconsistent
    │   ├── PanelError (ValueError)      a gene panel file that is malformed
    │   ├── AnnotationError (ValueError)  a CSQ/BCSQ/ANN annotation that disagrees with its header
    │   ├── CaseError (ValueError)       a case that cannot be analysed as asked (no proband, unknown HPO term)
    │   └── PgxError (ValueError)        a PGx request that cannot be answered as asked (outside call, sample)
    ├── NotFoundError (LookupError)      a dataset/variant that does not exist
    ├── StoreError                       the store on disk is inconsistent or locked
    │   └── StoreLockedError
    ├── ConfigurationError               settings that cannot work (missing gene models, bad URL, unsafe production)
    ├── AuthenticationError              no valid identity: bad, expired or untrusted token or visa (401)
    ├── AccessDeniedError (PermissionError)  a known caller asking for more than policy allows (403)
    ├── RateLimitedError                 a caller asking faster than the node's per-caller limit (429)
    ├── AuditUnavailableError            the audit log cannot be written: nothing is sent (503)
    └── AuditChainError                  the audit log was altered, removed from or reordered

Each message says what was wrong, where (file, line, record) and what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence


def listing(items: Sequence[str], limit: int = 5) -> str:
    """`a, b, c and 7 more`: long lists in messages, shortened the same way everywhere."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


class GenomenodeError(Exception):
    """Root of every error genomenode raises on purpose."""


class InputError(GenomenodeError):
    """The user's input is wrong; nothing was written."""


class VcfFormatError(InputError, ValueError):
    """A VCF/BCF that cannot be read or breaks the specification."""


class UnsortedVcfError(VcfFormatError):
    """Records are not sorted by contig and position."""


class ReferenceMismatchError(InputError):
    """A record's REF disagrees with the reference FASTA."""


class BeaconRequestError(InputError, ValueError):
    """A Beacon v2 request with a parameter, filter or combination this beacon cannot answer (400)."""


class PedigreeError(InputError, ValueError):
    """A PED file or Phenopacket family that is malformed or inconsistent (line and member named)."""


class PanelError(InputError, ValueError):
    """A gene panel (PanelApp TSV/JSON) that is malformed (file, line and field named)."""


class AnnotationError(InputError, ValueError):
    """A VEP CSQ, bcftools BCSQ or snpEff ANN value that disagrees with its header description."""


class CaseError(InputError, ValueError):
    """A rare-disease case that cannot be analysed as asked: no proband, unknown HPO term, empty family."""


class PgxError(InputError, ValueError):
    """A pharmacogenomic request that cannot be answered as asked: a malformed outside-call file,
    a VCF with several samples and none chosen, a gene no definition covers."""


class SampleSheetError(InputError):
    """A sample sheet that is malformed or disagrees with the VCF."""


class AssemblyError(InputError):
    """The assembly cannot be determined, or differs from the dataset's."""


class DuplicateSampleError(InputError):
    """A sample id that appears twice or is already loaded."""


class InvalidRegionError(InputError, ValueError):
    """A region string such as chr1:100-2000 that cannot be parsed."""


class InvalidVariantError(InputError, ValueError):
    """A variant string such as chr10:94781859:G:A that cannot be parsed."""


class UnknownGeneError(InputError, LookupError):
    """A gene symbol that the gene models do not know."""


class NotFoundError(GenomenodeError, LookupError):
    """A dataset, variant or record that does not exist (or that the caller may not see)."""


class StoreError(GenomenodeError):
    """The store on disk is inconsistent."""


class StoreLockedError(StoreError):
    """Another writer holds the store's write lock."""


class ConfigurationError(GenomenodeError):
    """Settings that cannot work."""


class AuthenticationError(GenomenodeError):
    """No valid identity: a token or visa that is malformed, expired, untrusted or badly signed."""


class AccessDeniedError(GenomenodeError, PermissionError):
    """The caller is known but policy does not let them do this.

    Object-level denials (another region's sample) raise NotFoundError instead, so the answer is
    the same as for an id that does not exist.
    """


class RateLimitedError(GenomenodeError):
    """Too many requests from one caller; `retry_after` says in how many seconds to try again."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuditUnavailableError(GenomenodeError):
    """The audit log cannot be written; the request fails before any individual-level data leaves."""


class AuditChainError(GenomenodeError):
    """An audit log entry was altered, removed or reordered; the message names the first bad entry."""
