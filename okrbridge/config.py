"""`okrbridge.toml` + environment -> validated `Settings`.

Which file: an explicit path, else the file named by `OKRBRIDGE_CONFIG`, else `./okrbridge.toml` when
it exists, else the embedded defaults (the bundled sample OKRs, `sqlite:///okrbridge.db`).

Secrets come only from the environment: the file names the *variable* that holds a token
(`jira.token_env`), and a key such as `token` or `password` anywhere in the file is an error, so a
token never lands in a reviewed, committed file. The tokens are read once, when the settings are
loaded, kept as `SecretStr`, and never shown by `repr`, `str` or `model_dump`.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from okrbridge.audiences import AUDIENCE_NAME, Audience, DetailLevel, Scope
from okrbridge.catalog import bundled_sample
from okrbridge.domain import EVERYONE, Level, SourceKind
from okrbridge.tomlread import TomlFileError, read_toml_text

CONFIG_ENV = "OKRBRIDGE_CONFIG"
"""The environment variable that names the config file when no path is given."""
DEFAULT_CONFIG = Path("okrbridge.toml")
"""The config file looked for in the working directory."""
SECRET_KEYS = frozenset({"token", "password", "api_token", "api_key", "secret", "pat"})
"""Keys that would put a secret in the file; they are refused wherever they appear."""

DEFAULT_SYNC_DEADLINE_SECONDS = 900.0
"""How long a sync may keep asking Jira when `jira.sync_deadline_seconds` is not set."""
MAX_CONFIG_BYTES = 1024 * 1024
"""The largest config file read: a config is a few dozen lines."""

MINUTES_PER_WEEK = 7 * 24 * 60
"""The longest interval the scheduler takes: a sync less often than weekly is no schedule."""
MAX_DAYS = 366
"""The longest staleness limit or check-in cadence, in days: beyond a year nothing is ever stale."""

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(ValueError):
    """A config file that cannot be used; `messages` holds one line per problem, each naming file and key."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages))


def _check_url(value: str | None) -> str | None:
    """URLs must be absolute http(s) ones; a trailing slash is dropped so paths join cleanly."""
    if value is None:
        return None
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


def _check_env_name(value: str) -> str:
    """A token_env must be something an environment variable can be called."""
    if not _ENV_NAME.match(value):
        raise ValueError(f"token_env must name an environment variable, not {value!r}")
    return value


class GradingSettings(BaseModel):
    """Status bands and pace tolerance (see grading)."""

    model_config = _STRICT
    off_track_below: float = Field(default=0.4, ge=0, le=1)
    at_risk_below: float = Field(default=0.7, ge=0, le=1)
    pace_tolerance: float = Field(default=0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        """The off-track band lies below the at-risk band."""
        if self.off_track_below > self.at_risk_below:
            raise ValueError(f"off_track_below ({self.off_track_below}) must not be above "
                             f"at_risk_below ({self.at_risk_below})")
        return self


class _TokenEnv(BaseModel):
    """Shared by the Jira and Confluence sections: where the service is and who calls it."""

    model_config = _STRICT
    url: Annotated[str | None, AfterValidator(_check_url)] = None
    email: str | None = None
    token_env: Annotated[str, AfterValidator(_check_env_name)]


class JiraSettings(_TokenEnv):
    """How to reach Jira; the token is read from the environment variable named by `token_env`."""

    deployment: Literal["auto", "cloud", "datacenter"] = "auto"
    token_env: Annotated[str, AfterValidator(_check_env_name)] = "OKRBRIDGE_JIRA_TOKEN"
    max_concurrency: int = Field(default=8, ge=1, le=64)
    # Every number has an upper bound too: 1e308 seconds overflows the socket layer, and a billion
    # retries is a sync that never ends.
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_retries: int = Field(default=5, ge=0, le=20)
    max_retry_wait_seconds: float = Field(default=60.0, ge=0, le=3600)
    # A whole sync's bound on asking Jira (retries and waits included): 1 s to 1 day.
    sync_deadline_seconds: float = Field(default=DEFAULT_SYNC_DEADLINE_SECONDS, ge=1, le=86_400)
    remote_links: bool = True
    # The longest a stored answer stands without being asked again (0: every sync asks everything).
    full_sync_hours: float = Field(default=24.0, ge=0, le=24 * 366)


class ConfluenceSettings(_TokenEnv):
    """Where status pages will be published: read and validated now, used by the coming publisher."""

    deployment: Literal["auto", "cloud", "datacenter"] = "auto"
    space: str = Field(default="OKR", min_length=1)
    token_env: Annotated[str, AfterValidator(_check_env_name)] = "OKRBRIDGE_CONFLUENCE_TOKEN"
    parent_title: str | None = None


FORGE_JWKS_URL = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"
"""Where Atlassian publishes the keys that sign Forge Invocation Tokens."""


def _check_app_id(value: str | None) -> str | None:
    """A Forge app id is an ARI: `ari:cloud:ecosystem::app/<uuid>`."""
    if value is not None and not re.match(r"^ari:cloud:ecosystem::app/[0-9a-fA-F-]{36}$", value):
        raise ValueError(f"{value!r} is not a Forge app id (ari:cloud:ecosystem::app/<uuid>)")
    return value


class WebSettings(BaseModel):
    """The web app: where it listens, the URL it is reached at, the Forge app it answers, and how
    viewers outside Jira are identified (`auth`)."""

    model_config = _STRICT
    base_url: Annotated[str | None, AfterValidator(_check_url)] = None
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65535)
    threads: int = Field(default=8, ge=1, le=256)
    forge_app_id: Annotated[str | None, AfterValidator(_check_app_id)] = None
    forge_jwks_url: Annotated[str, AfterValidator(_check_url)] = FORGE_JWKS_URL
    auth: Literal["proxy", "token", "anonymous"] = "token"
    proxy_header: str = Field(default="X-Forwarded-User", min_length=1)
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    token_accounts: dict[str, Annotated[str, AfterValidator(_check_env_name)]] = Field(default_factory=dict)
    group_cache_seconds: float = Field(default=60.0, ge=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        """Every trusted proxy is an IP address or network (CIDR)."""
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as error:
                raise ValueError(f"{item!r} is not an IP address or network") from error
        return value


class SchedulerSettings(BaseModel):
    """When the daemon syncs, publishes and checks for silent KRs, and how long its leader lease lasts.

    The sync timetable is one of `sync_cron` (5 fields), `sync_every_minutes` (the default, 60) or
    `sync_every_seconds` (short periods for trials and tests); intervals are counted from the Unix
    epoch, so daemons on several hosts agree on when a period starts. Compaction runs at the times
    of `compact_cron` (default 03:00 every day, in `timezone`) and keeps sync runs for
    `keep_runs_days` (see okrbridge.store.compaction). `notify_silent = "epic-comment"` tells a
    silent KR's owner once per silence, on the KR's first epic (see okrbridge.owner_notices).
    """

    model_config = _STRICT
    sync_cron: str | None = None
    sync_every_minutes: int = Field(default=60, ge=1, le=MINUTES_PER_WEEK)
    sync_every_seconds: int | None = Field(default=None, ge=1, le=60 * MINUTES_PER_WEEK)
    publish_after_sync: bool = True
    publish_every_minutes: int = Field(default=60, ge=1, le=MINUTES_PER_WEEK)
    stale_check_every_minutes: int = Field(default=60, ge=1, le=MINUTES_PER_WEEK)
    stale_after_days: float = Field(default=3, gt=0, le=MAX_DAYS)
    stale_after_days_by_source: dict[str, Annotated[float, Field(gt=0, le=MAX_DAYS)]] = Field(
        default_factory=dict)
    checkin_cadence_days: float = Field(default=7, gt=0, le=MAX_DAYS)
    lease_seconds: int = Field(default=60, ge=2, le=3600)
    timezone: str = "UTC"
    compact_cron: str = "0 3 * * *"
    keep_runs_days: int = Field(default=90, ge=1, le=3650)
    notify_silent: Literal["off", "epic-comment"] = "off"

    @field_validator("sync_cron", "compact_cron")
    @classmethod
    def _five_fields(cls, value: str | None) -> str | None:
        """A crontab expression has five fields."""
        if value is not None and len(value.split()) != 5:
            raise ValueError(f"{value!r} must have 5 fields: minute hour day-of-month month day-of-week")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """The timezone is one the system's tz database knows."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown timezone {value!r} (an IANA name such as Europe/Paris)") from error
        return value

    @field_validator("stale_after_days_by_source")
    @classmethod
    def _jira_sources(cls, value: dict[str, float]) -> dict[str, float]:
        """Keys are Jira-backed source kinds with positive day counts; manual KRs go by check-in cadence."""
        jira_backed = [kind.value for kind in SourceKind if kind is not SourceKind.MANUAL]
        for kind, days in value.items():
            if kind == SourceKind.MANUAL.value:
                raise ValueError("manual KRs and KPIs go stale by checkin_cadence_days, not here")
            if kind not in jira_backed:
                raise ValueError(f"unknown source kind {kind!r}; one of: {', '.join(jira_backed)}")
            if not days > 0:
                raise ValueError(f"{kind}: the number of days must be above 0, not {days}")
        return value

    @model_validator(mode="after")
    def _one_timetable(self) -> Self:
        """Two sync timetables side by side are ambiguous, so they are refused."""
        given = [name for name in ("sync_cron", "sync_every_minutes", "sync_every_seconds")
                 if name in self.model_fields_set and getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"set one sync timetable, not {' and '.join(given)}")
        return self

    def stale_after(self, kind: SourceKind) -> float:
        """After how many days without a fresh value a KR or KPI of this source kind is stale."""
        if kind is SourceKind.MANUAL:
            return self.checkin_cadence_days
        return self.stale_after_days_by_source.get(kind.value, self.stale_after_days)


class AudienceSettings(BaseModel):
    """One `[[audience]]`: who a status page or view is for and what it shows (see audiences)."""

    model_config = _STRICT
    name: str
    title: str | None = Field(default=None, min_length=1)
    groups: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    scope: Literal["company", "team", "level"] = "company"
    team: str | None = Field(default=None, min_length=1)
    level: Literal["company", "team", "individual"] | None = None
    detail: Literal["summary", "detail"] = "summary"

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        """A name keys pages and labels, so it is lower-case letters, digits and dashes."""
        if not AUDIENCE_NAME.match(value):
            raise ValueError(f"{value!r} must be lower-case letters, digits and dashes, e.g. \"team-sales\"")
        return value

    @field_validator("groups")
    @classmethod
    def _no_everyone(cls, value: list[str]) -> list[str]:
        """Everyone is said by leaving groups empty; "everyone" among groups would be ambiguous."""
        if EVERYONE in value:
            raise ValueError(f"leave groups empty for everyone instead of listing {EVERYONE!r}")
        return value

    @model_validator(mode="after")
    def _scope_subject(self) -> Self:
        """A team scope names its team, a level scope its level, and nothing else does."""
        if (self.scope == "team") != (self.team is not None):
            raise ValueError("set team exactly when scope = \"team\"")
        if (self.scope == "level") != (self.level is not None):
            raise ValueError("set level exactly when scope = \"level\"")
        return self

    def to_audience(self) -> Audience:
        """The audience these settings declare; its title defaults from the scope."""
        level = Level(self.level) if self.level is not None else None
        title = self.title or {"company": "Company overview", "team": f"Team: {self.team}",
                               "level": f"{self.level} objectives".capitalize()}[self.scope]
        return Audience(self.name, title, tuple(self.groups), Scope(self.scope), DetailLevel(self.detail),
                        team=self.team, level=level)


class _Sections(BaseModel):
    """Everything the file may say besides where the OKRs are."""

    model_config = _STRICT
    database_url: str = Field(default="sqlite:///okrbridge.db", min_length=1)
    # factories, not instances: nothing is built when the module is imported
    grading: GradingSettings = Field(default_factory=GradingSettings)
    jira: JiraSettings = Field(default_factory=JiraSettings)
    confluence: ConfluenceSettings = Field(default_factory=ConfluenceSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    audience: list[AudienceSettings] = Field(default_factory=list)

    @field_validator("audience")
    @classmethod
    def _unique_audiences(cls, value: list[AudienceSettings]) -> list[AudienceSettings]:
        """Names key the pages and titles must be unique in a space, so neither repeats."""
        for what, keys in (("name", [a.name for a in value]),
                           ("title", [a.to_audience().title for a in value])):
            repeated = sorted({k for k in keys if keys.count(k) > 1})
            if repeated:
                raise ValueError(f"audience {what} used more than once: {', '.join(repeated)}")
        return value


class _ConfigFile(_Sections):
    okrs: str | None = Field(default=None, min_length=1)


class Settings(_Sections):
    """Validated settings. `okrs` is absolute or relative to the working directory; `config_file` is
    the file they were read from (None for the embedded defaults)."""

    okrs: Path
    config_file: Path | None = None
    _tokens: dict[str, SecretStr] = PrivateAttr(default_factory=dict)

    def _token(self, name: str) -> str | None:
        """The token captured from environment variable `name`, if it was set."""
        secret = self._tokens.get(name)
        return secret.get_secret_value() if secret is not None else None

    def jira_token(self) -> str | None:
        """The Jira API token (Cloud) or PAT (Data Center) from `$<jira.token_env>` at load time."""
        return self._token(self.jira.token_env)

    def confluence_token(self) -> str | None:
        """The Confluence token from `$<confluence.token_env>` at load time."""
        return self._token(self.confluence.token_env)

    def web_tokens(self) -> dict[str, str]:
        """The web API tokens by account, each read from the variable `web.token_accounts` names for
        it at load time (accounts whose variable was unset are left out)."""
        found = {account: self._token(name) for account, name in self.web.token_accounts.items()}
        return {account: token for account, token in found.items() if token}

    def audiences(self) -> tuple[Audience, ...]:
        """The configured `[[audience]]` entries (empty: views use `audiences.default_audiences`)."""
        return tuple(a.to_audience() for a in self.audience)


def _secret_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths of keys that look like secrets, at any depth."""
    found: list[str] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key.lower() in SECRET_KEYS:
            found.append(path)
        if isinstance(value, Mapping):
            found.extend(_secret_keys(value, f"{path}."))
    return found


def _secret_message(file: str, path: str) -> str:
    """Why a secret-looking key is refused, and where the secret goes instead."""
    section = path.split(".")[0]
    if section in ("jira", "confluence"):
        default = _Sections.model_fields[section].get_default(call_default_factory=True).token_env
        where = f"the environment variable named by {section}.token_env (default {default})"
    else:
        where = "an environment variable"
    return f"{file}: {path}: secrets are never read from the config file; put it in {where}"


def _allowed(section: tuple[Any, ...]) -> list[str]:
    """The keys the file may hold at a section path (top level for ())."""
    model: type[BaseModel] = _ConfigFile
    for part in section:
        if isinstance(part, int):  # an entry of an array of tables such as [[audience]]
            continue
        inner = model.model_fields[part].annotation
        if get_origin(inner) is list:
            inner = get_args(inner)[0]
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return []
        model = inner
    return list(model.model_fields)


def _field(loc: tuple[Any, ...]) -> FieldInfo | None:
    """The model field a key path of the file names, if there is one."""
    model: type[BaseModel] = _ConfigFile
    for part in loc[:-1]:
        inner = model.model_fields[part].annotation if part in model.model_fields else None
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return None
        model = inner
    return model.model_fields.get(str(loc[-1])) if loc else None


def _range(info: FieldInfo) -> str | None:
    """A number setting's allowed range in words ("1 to 64", "above 0 up to 600"), None if unbounded."""
    bounds = {name: getattr(m, name) for m in info.metadata for name in ("gt", "ge", "lt", "le")
              if getattr(m, name, None) is not None}
    if not bounds:
        return None
    low = f"above {bounds['gt']}" if "gt" in bounds else f"{bounds['ge']}" if "ge" in bounds else None
    high = f"below {bounds['lt']}" if "lt" in bounds else f"{bounds['le']}" if "le" in bounds else None
    if low and high:
        return f"{low} to {high}" if "ge" in bounds and "le" in bounds else f"{low} up to {high}"
    return f"at least {low}" if "ge" in bounds else low or f"at most {high}"


_BOUND_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


def _explain(file: str, detail: Mapping[str, Any]) -> str:
    """One pydantic error as `file: key.path: message`; a number out of its range gets the range."""
    loc = ".".join(str(part) for part in detail["loc"])
    message = str(detail["msg"]).removeprefix("Value error, ")
    if detail["type"] == "extra_forbidden":
        message = f"unknown key; allowed keys: {', '.join(_allowed(detail['loc'][:-1]))}"
    info = _field(tuple(detail["loc"])) if detail["type"] in _BOUND_ERRORS else None
    allowed = _range(info) if info is not None else None
    if allowed is not None:
        message = f"{detail.get('input')!r} is out of range; allowed: {allowed}"
    return f"{file}: {loc}: {message}" if loc else f"{file}: {message}"


def _read(path: Path) -> dict[str, Any]:
    """The file's TOML; ConfigError (naming the file and line) when it cannot be read or parsed."""
    try:
        return tomllib.loads(read_toml_text(path, max_bytes=MAX_CONFIG_BYTES))
    except FileNotFoundError as error:
        raise ConfigError([f"{path}: no such config file"]) from error
    except TomlFileError as error:
        where = f"{path}:{error.line}" if error.line else str(path)
        raise ConfigError([f"{where}: cannot read the config file: {error.message}"]) from error
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"\(at line ([0-9]+), column [0-9]+\)$", str(error))
        where = f"{path}:{found[1]}" if found else str(path)
        message = str(error)[:found.start()].rstrip() if found else str(error)
        raise ConfigError([f"{where}: invalid TOML: {message}"]) from error


def _choose(path: Path | None, env: Mapping[str, str]) -> Path | None:
    """The config file to read: the given one, `$OKRBRIDGE_CONFIG`, `./okrbridge.toml`, or none."""
    if path is not None:
        return path
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        if not Path(named).is_file():
            raise ConfigError([f"{named}: no such config file (named by ${CONFIG_ENV})"])
        return Path(named)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_settings(path: Path | None, env: Mapping[str, str]) -> Settings:
    """Settings from `path` (or the file found as the module docstring says) and the environment.

    Raises ConfigError listing every unknown key, wrong type and secret found in the file.
    """
    return _load(_choose(path, env), env)


def default_settings(env: Mapping[str, str]) -> Settings:
    """The embedded defaults whatever files exist (what `okrbridge demo` runs on), tokens from `env`."""
    return _load(None, env)


def _load(chosen: Path | None, env: Mapping[str, str]) -> Settings:
    """Settings from one file (None: the embedded defaults) and the tokens from `env`."""
    data = _read(chosen) if chosen is not None else {}
    file = str(chosen) if chosen is not None else "defaults"
    secrets = _secret_keys(data)
    problems = [_secret_message(file, p) for p in secrets]
    try:
        parsed = _ConfigFile.model_validate(data)
    except ValidationError as error:
        # a secret-looking key is also an unknown one; its own message says more
        problems += [_explain(file, d) for d in error.errors()
                     if ".".join(str(part) for part in d["loc"]) not in secrets]
        raise ConfigError(problems) from error
    if problems:
        raise ConfigError(problems)
    okrs = bundled_sample("okrs.toml")
    if parsed.okrs is not None:
        okrs = Path(parsed.okrs).expanduser()
        if not okrs.is_absolute() and chosen is not None:
            okrs = chosen.absolute().parent / okrs  # relative to the config file, not to the cwd
    settings = Settings(okrs=okrs, config_file=chosen,
                        **{name: getattr(parsed, name) for name in _Sections.model_fields})
    named = {settings.jira.token_env, settings.confluence.token_env, *settings.web.token_accounts.values()}
    for name in named:
        value = env.get(name, "").strip()
        if value:
            settings._tokens[name] = SecretStr(_checked_secret(name, value))
    return settings


def _checked_secret(name: str, value: str) -> str:
    """A token from `$name`, refused (naming the variable, never the value) when it cannot be one.

    Tokens travel in HTTP headers: a line break or a control character inside one would be refused
    by the HTTP library with an error quoting the whole value.
    """
    if not value.isprintable() or any(character.isspace() for character in value):
        raise ConfigError([f"${name}: the token contains whitespace or control characters; set the "
                           "variable to the token alone (its value is not shown)"])
    return value

