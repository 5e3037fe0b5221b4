"""What makes a production configuration dangerous, listed so the node can refuse to start.

Development creates keys on first use; production must be given them (restored from the node's
backup, or created once by `genomenode keys init`), because a node that silently made new keys
would issue pseudonyms no earlier record matches and tokens no partner trusts.
"""

from __future__ import annotations

from pathlib import Path

from genomenode.settings import Settings

_DEV_URLS = ("http://127.0.0.1", "http://localhost")


def _key_problem(path: Path, what: str) -> str | None:
    if not path.exists():
        return f"{what} {path} is missing (create it with `genomenode keys init` or restore it)"
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return f"{what} {path} is readable by others (mode {oct(mode)}; chmod 600)"
    if path.stat().st_size == 0:
        return f"{what} {path} is empty"
    return None


def production_problems(settings: Settings) -> list[str]:
    """Every reason this configuration is unsafe for production; empty when it is fine."""
    problems = [
        p
        for p in (
            _key_problem(settings.pseudonym_key_path, "pseudonymisation key"),
            _key_problem(settings.signing_key_path, "token signing key"),
            _key_problem(settings.crypt4gh_key_paths[0], "archive key"),
        )
        if p
    ]
    secrets = settings.secrets_root
    if secrets.exists() and secrets.stat().st_mode & 0o077:
        problems.append(f"secrets folder {secrets} is open to others (chmod 700)")
    if settings.secrets_dir is None or settings.secrets_root.resolve().is_relative_to(settings.data_dir.resolve()):
        problems.append(
            "GENOMENODE_SECRETS_DIR must be set, outside the data dir (keys apart from the data they protect)"
        )
    if "*" in settings.cors_origins:
        problems.append("GENOMENODE_CORS_ORIGINS contains '*' (an open CORS policy)")
    if any(o.startswith("http://") for o in settings.cors_origins):
        problems.append("GENOMENODE_CORS_ORIGINS must be https origins")
    if not settings.audit_enabled:
        problems.append("GENOMENODE_AUDIT_ENABLED is off")
    if settings.public_url.startswith(_DEV_URLS) or not settings.public_url.startswith("https://"):
        problems.append(f"GENOMENODE_PUBLIC_URL {settings.public_url!r} is not an https URL")
    if settings.small_count_floor < 5:
        problems.append(f"GENOMENODE_SMALL_COUNT_FLOOR {settings.small_count_floor} is below 5")
    return problems
