"""Typed readers for settings that come from the environment."""

import os
import secrets
from pathlib import Path


class ConfigError(Exception):
    pass


def envstr(name: str, default: str = "") -> str:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def envbool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None


def envfloat(name: str, default: float) -> float:
    raw = envstr(name, "")
    if raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds") from None


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def envduration_list(name: str, default: str) -> list[int]:
    """Durations such as "24h,1h,30m", as seconds, longest first."""
    raw = os.environ.get(name)
    raw = default if raw is None else raw
    seconds = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        unit = {"h": 3600, "m": 60}.get(part[-1:].lower())
        try:
            if unit is None or int(part[:-1]) <= 0:
                raise ValueError
            seconds.append(int(part[:-1]) * unit)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: {part!r} is not a duration such as 24h or 30m") from None
    return sorted(set(seconds), reverse=True)


def persistent_secret_key(data_dir: Path) -> str:
    """The key given in SECRET_KEY, or one generated once and kept in the data directory."""
    given = envstr("SECRET_KEY")
    if given:
        return given
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    tmp = key_file.with_suffix(".tmp")
    tmp.write_text(key)
    tmp.chmod(0o600)
    try:
        os.link(tmp, key_file)  # atomic: two processes starting at once agree on one key
    except FileExistsError:
        pass
    tmp.unlink(missing_ok=True)
    return key_file.read_text().strip()
