"""Settings: which file is read, defaults, strict keys and types, secrets only from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from okrbridge.catalog import bundled_sample
from okrbridge.config import AudienceSettings, ConfigError, Settings, default_settings, load_settings
from okrbridge.domain import SourceKind

Write = Callable[..., Path]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each test in an empty folder, so a developer's own okrbridge.toml is never picked up."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def config_error(path: Path | None, env: dict[str, str] | None = None) -> list[str]:
    """The messages of the ConfigError loading `path` raises."""
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env or {})
    assert str(caught.value) == "\n".join(caught.value.messages)
    return caught.value.messages


def test_without_any_file_the_embedded_defaults_apply() -> None:
    settings = load_settings(None, {})
    assert settings.config_file is None
    assert settings.okrs == bundled_sample("okrs.toml") and settings.okrs.is_file()
    assert settings.database_url == "sqlite:///okrbridge.db"
    assert (settings.grading.off_track_below, settings.grading.at_risk_below,
            settings.grading.pace_tolerance) == (0.4, 0.7, 0.1)
    jira = settings.jira
    assert (jira.url, jira.deployment, jira.email) == (None, "auto", None)
    assert jira.token_env == "OKRBRIDGE_JIRA_TOKEN"
    assert (jira.max_concurrency, jira.timeout_seconds, jira.max_retries, jira.max_retry_wait_seconds,
            jira.remote_links) == (8, 30.0, 5, 60.0, True)
    assert (settings.confluence.space, settings.confluence.token_env, settings.confluence.parent_title) == (
        "OKR", "OKRBRIDGE_CONFLUENCE_TOKEN", None)
    assert (settings.web.host, settings.web.port, settings.web.base_url) == ("127.0.0.1", 8000, None)
    assert (settings.scheduler.sync_cron, settings.scheduler.sync_every_minutes,
            settings.scheduler.publish_every_minutes, settings.scheduler.timezone) == (None, 60, 60, "UTC")


def test_okrbridge_toml_in_the_working_directory_is_read(empty_cwd: Path) -> None:
    (empty_cwd / "okrbridge.toml").write_text('database_url = "sqlite:///here.db"\n')
    settings = load_settings(None, {})
    assert settings.database_url == "sqlite:///here.db"
    assert settings.config_file == Path("okrbridge.toml")


def test_okrbridge_config_env_var_wins_over_the_working_directory(empty_cwd: Path, write: Write) -> None:
    (empty_cwd / "okrbridge.toml").write_text('database_url = "sqlite:///cwd.db"\n')
    named = write('database_url = "sqlite:///env.db"\n', "etc/okrbridge.toml")
    settings = load_settings(None, {"OKRBRIDGE_CONFIG": str(named)})
    assert (settings.database_url, settings.config_file) == ("sqlite:///env.db", named)


def test_explicit_path_wins_over_the_env_var(write: Write) -> None:
    named = write('database_url = "sqlite:///env.db"\n', "env.toml")
    given = write('database_url = "sqlite:///given.db"\n', "given.toml")
    assert load_settings(given, {"OKRBRIDGE_CONFIG": str(named)}).database_url == "sqlite:///given.db"


def test_env_var_naming_a_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert config_error(None, {"OKRBRIDGE_CONFIG": str(missing)}) == [
        f"{missing}: no such config file (named by $OKRBRIDGE_CONFIG)"]


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    assert config_error(tmp_path / "nope.toml") == [f"{tmp_path / 'nope.toml'}: no such config file"]


def test_default_settings_ignore_files(empty_cwd: Path) -> None:
    (empty_cwd / "okrbridge.toml").write_text('database_url = "sqlite:///cwd.db"\n')
    settings = default_settings({"OKRBRIDGE_CONFIG": "elsewhere.toml", "OKRBRIDGE_JIRA_TOKEN": "t"})
    assert (settings.database_url, settings.config_file, settings.jira_token()) == (
        "sqlite:///okrbridge.db", None, "t")


def test_unknown_key_names_file_and_key_path(write: Write) -> None:
    path = write("[jira]\ncolour = 'blue'\n", "okrbridge.toml")
    [message] = config_error(path)
    assert message.startswith(f"{path}: jira.colour: unknown key; allowed keys: url, email, token_env")


def test_unknown_section_is_an_error(write: Write) -> None:
    path = write("[slack]\nurl = 'https://hooks.example.com'\n", "okrbridge.toml")
    assert config_error(path)[0].startswith(f"{path}: slack: unknown key; allowed keys: database_url")


def test_wrong_type_names_file_and_key_path(write: Write) -> None:
    path = write('[jira]\nmax_concurrency = "8"\n', "okrbridge.toml")
    assert config_error(path) == [f"{path}: jira.max_concurrency: Input should be a valid integer"]


def test_every_problem_in_the_file_is_listed(write: Write) -> None:
    text = 'database_url = 3\n[web]\nport = 70000\n[grading]\nat_risk_below = "high"\n'
    path = write(text, "okrbridge.toml")
    assert [m.split(": ")[1] for m in config_error(path)] == [
        "database_url", "grading.at_risk_below", "web.port"]


def test_toml_syntax_error_names_the_line(write: Write) -> None:
    path = write("[jira]\nurl = https://example.com\n", "okrbridge.toml")
    [message] = config_error(path)
    assert message.startswith(f"{path}:2: invalid TOML: ")


@pytest.mark.parametrize(("text", "key", "where"), [
    ('[jira]\ntoken = "abc"\n', "jira.token",
     "the environment variable named by jira.token_env (default OKRBRIDGE_JIRA_TOKEN)"),
    ('[confluence]\npassword = "abc"\n', "confluence.password",
     "the environment variable named by confluence.token_env (default OKRBRIDGE_CONFLUENCE_TOKEN)"),
    ('api_token = "abc"\n', "api_token", "an environment variable"),
])
def test_secret_in_the_file_is_refused_and_points_at_the_env_var(write: Write, text: str, key: str,
                                                                  where: str) -> None:
    path = write(text, "okrbridge.toml")
    assert config_error(path) == [
        f"{path}: {key}: secrets are never read from the config file; put it in {where}"]


def test_tokens_come_from_the_env_vars_the_file_names(write: Write) -> None:
    path = write('[jira]\ntoken_env = "ACME_JIRA_PAT"\n', "okrbridge.toml")
    env = {"ACME_JIRA_PAT": "jira-secret", "OKRBRIDGE_JIRA_TOKEN": "not-this-one",
           "OKRBRIDGE_CONFLUENCE_TOKEN": "wiki-secret"}
    settings = load_settings(path, env)
    assert (settings.jira_token(), settings.confluence_token()) == ("jira-secret", "wiki-secret")


def test_tokens_are_captured_at_load_time(write: Write) -> None:
    env = {"OKRBRIDGE_JIRA_TOKEN": "first"}
    settings = load_settings(None, env)
    env["OKRBRIDGE_JIRA_TOKEN"] = "second"
    assert settings.jira_token() == "first"


def test_missing_or_blank_token_is_none() -> None:
    settings = load_settings(None, {"OKRBRIDGE_JIRA_TOKEN": "  "})
    assert (settings.jira_token(), settings.confluence_token()) == (None, None)


@pytest.mark.parametrize("token", ["s3cr3t-pat\nsecond-line", "s3cr3t pat", "s3cr3t\x00pat",
                                   "s3cr3t\x1b[2Jpat"])
def test_a_token_with_whitespace_or_control_characters_is_refused_naming_the_variable(token: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, {"OKRBRIDGE_JIRA_TOKEN": token})
    assert info.value.messages == ["$OKRBRIDGE_JIRA_TOKEN: the token contains whitespace or control "
                                   "characters; set the variable to the token alone (its value is not shown)"]
    assert "s3cr3t" not in str(info.value)


def test_secrets_never_show_in_repr_str_or_dump() -> None:
    env = {"OKRBRIDGE_JIRA_TOKEN": "s3cr3t-jira", "OKRBRIDGE_CONFLUENCE_TOKEN": "s3cr3t-wiki"}
    settings = load_settings(None, env)
    shown = [repr(settings), str(settings), str(settings.model_dump()), settings.model_dump_json(),
             repr(settings.jira), repr(settings.confluence)]
    assert not any("s3cr3t" in text for text in shown)
    assert settings.jira_token() == "s3cr3t-jira"


def test_token_env_must_be_a_variable_name(write: Write) -> None:
    path = write('[jira]\ntoken_env = "my token"\n', "okrbridge.toml")
    assert config_error(path) == [
        f"{path}: jira.token_env: token_env must name an environment variable, not 'my token'"]


def test_relative_okrs_path_resolves_against_the_config_folder(write: Write, tmp_path: Path) -> None:
    path = write('okrs = "okrs/company.toml"\n', "conf/okrbridge.toml")
    assert load_settings(path, {}).okrs == tmp_path / "conf" / "okrs" / "company.toml"


def test_relative_okrs_path_in_a_cwd_config_is_absolute(empty_cwd: Path) -> None:
    (empty_cwd / "okrbridge.toml").write_text('okrs = "okrs.toml"\n')
    assert load_settings(None, {}).okrs == empty_cwd / "okrs.toml"


def test_absolute_okrs_path_is_kept(write: Write, tmp_path: Path) -> None:
    target = tmp_path / "shared" / "okrs.toml"
    path = write(f'okrs = "{target.as_posix()}"\n', "okrbridge.toml")
    assert load_settings(path, {}).okrs == target


def test_urls_must_be_http_and_lose_their_trailing_slash(write: Write) -> None:
    path = write('[jira]\nurl = "https://acme.atlassian.net/"\n', "okrbridge.toml")
    assert load_settings(path, {}).jira.url == "https://acme.atlassian.net"
    bad = write('[confluence]\nurl = "acme.atlassian.net/wiki"\n', "bad.toml")
    assert config_error(bad) == [
        f"{bad}: confluence.url: 'acme.atlassian.net/wiki' is not an http:// or https:// URL"]


def test_deployment_lists_its_choices(write: Write) -> None:
    path = write('[jira]\ndeployment = "server"\n', "okrbridge.toml")
    assert config_error(path) == [f"{path}: jira.deployment: Input should be 'auto', 'cloud' or 'datacenter'"]


def test_grading_bands_must_be_in_order(write: Write) -> None:
    path = write("[grading]\noff_track_below = 0.8\n", "okrbridge.toml")
    assert config_error(path) == [
        f"{path}: grading: off_track_below (0.8) must not be above at_risk_below (0.7)"]


def test_sync_cron_replaces_the_interval_but_not_both(write: Write) -> None:
    path = write('[scheduler]\nsync_cron = "0 6-20 * * mon-fri"\ntimezone = "Europe/Paris"\n', "a.toml")
    scheduler = load_settings(path, {}).scheduler
    assert (scheduler.sync_cron, scheduler.timezone) == ("0 6-20 * * mon-fri", "Europe/Paris")
    both = write('[scheduler]\nsync_cron = "0 * * * *"\nsync_every_minutes = 5\n', "b.toml")
    assert config_error(both) == [
        f"{both}: scheduler: set one sync timetable, not sync_cron and sync_every_minutes"]
    seconds = write('[scheduler]\nsync_every_seconds = 2\nsync_every_minutes = 5\n', "c.toml")
    assert config_error(seconds) == [
        f"{seconds}: scheduler: set one sync timetable, not sync_every_minutes and sync_every_seconds"]


def test_stale_thresholds_are_per_jira_source_kind_and_manual_goes_by_cadence(write: Write) -> None:
    path = write('[scheduler]\nstale_after_days = 2\nstale_after_days_by_source = { milestone = 14 }\n'
                 'checkin_cadence_days = 10\n', "a.toml")
    scheduler = load_settings(path, {}).scheduler
    assert [scheduler.stale_after(kind) for kind in (SourceKind.JQL_COUNT, SourceKind.MILESTONE,
                                                      SourceKind.MANUAL)] == [2, 14, 10]
    manual = write('[scheduler]\nstale_after_days_by_source = { manual = 3 }\n', "b.toml")
    assert config_error(manual) == [f"{manual}: scheduler.stale_after_days_by_source: manual KRs and KPIs "
                                    "go stale by checkin_cadence_days, not here"]
    unknown = write('[scheduler]\nstale_after_days_by_source = { jql = 3 }\n', "c.toml")
    assert config_error(unknown) == [
        f"{unknown}: scheduler.stale_after_days_by_source: unknown source kind 'jql'; one of: "
        "jql_count, jql_ratio, jql_sum, kpi, milestone"]


def test_cron_and_timezone_are_checked(write: Write) -> None:
    path = write('[scheduler]\nsync_cron = "hourly"\ntimezone = "Mars/Olympus"\n', "okrbridge.toml")
    assert config_error(path) == [
        f"{path}: scheduler.sync_cron: 'hourly' must have 5 fields: "
        "minute hour day-of-month month day-of-week",
        f"{path}: scheduler.timezone: unknown timezone 'Mars/Olympus' (an IANA name such as Europe/Paris)"]


def test_settings_are_frozen() -> None:
    settings = load_settings(None, {})
    with pytest.raises(ValueError, match="frozen"):
        settings.database_url = "sqlite:///other.db"


def test_example_config_loads_and_matches_the_defaults() -> None:
    example = load_settings(REPO / "config.example.toml", {})
    defaults = load_settings(None, {})
    assert isinstance(example, Settings)
    assert example.model_dump(exclude={"config_file"}) == defaults.model_dump(exclude={"config_file"})


def test_example_config_mentions_every_setting() -> None:
    text = (REPO / "config.example.toml").read_text(encoding="utf-8")
    sections = {"grading", "jira", "confluence", "web", "scheduler"}
    for name, value in load_settings(None, {}).model_dump(exclude={"config_file"}).items():
        if name in sections:
            assert f"[{name}]" in text
            assert all(f"{key} =" in text for key in value), name
        elif name == "audience":  # an array of tables, empty by default: its keys are documented
            assert "[[audience]]" in text
            assert all(f"{key} =" in text for key in AudienceSettings.model_fields), name
        else:
            assert f"{name} =" in text, name


def test_arrays_nested_thousands_deep_are_refused_with_the_line(write: Write) -> None:
    path = write('database_url = "sqlite:///x.db"\nx = ' + "[" * 3000 + "]" * 3000 + "\n", "okrbridge.toml")
    assert config_error(path) == [f"{path}:2: cannot read the config file: arrays or inline tables nest "
                                  "more than 32 levels deep"]


def test_a_config_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "okrbridge.toml"
    os.mkfifo(fifo)  # opening it for a plain read would wait for a writer forever
    assert config_error(fifo) == [f"{fifo}: cannot read the config file: not a regular file (a device, "
                                  "a FIFO or a folder cannot hold TOML)"]


@pytest.mark.parametrize(("section", "key", "value", "allowed"), [
    ("jira", "timeout_seconds", "1e308", "above 0 up to 600"),
    ("jira", "timeout_seconds", "0", "above 0 up to 600"),
    ("jira", "max_retries", "100000000000000000000", "0 to 20"),
    ("jira", "max_retry_wait_seconds", "1e9", "0 to 3600"),
    ("jira", "max_concurrency", "65", "1 to 64"),
    ("web", "port", "70000", "1 to 65535"),
    ("scheduler", "publish_every_minutes", "0", "1 to 10080"),
    ("scheduler", "sync_every_minutes", "1000000", "1 to 10080"),
    ("grading", "pace_tolerance", "1.5", "0 to 1"),
    ("scheduler", "sync_every_seconds", "1000000", "1 to 604800"),
    ("scheduler", "stale_after_days", "1e308", "above 0 up to 366"),
    ("scheduler", "checkin_cadence_days", "0", "above 0 up to 366"),
    ("scheduler", "lease_seconds", "1", "2 to 3600"),
])
def test_every_number_setting_is_bounded_and_the_error_names_key_and_range(
        write: Write, section: str, key: str, value: str, allowed: str) -> None:
    path = write(f"[{section}]\n{key} = {value}\n", "okrbridge.toml")
    [message] = config_error(path)
    assert message.startswith(f"{path}: {section}.{key}: ") and message.endswith(f"allowed: {allowed}")


def test_a_float_for_a_whole_number_setting_is_refused(write: Write) -> None:
    path = write("[jira]\nmax_retries = 1e20\n", "okrbridge.toml")
    assert config_error(path) == [f"{path}: jira.max_retries: Input should be a valid integer"]


def test_the_largest_allowed_numbers_load(write: Write) -> None:
    path = write("[jira]\ntimeout_seconds = 600\nmax_retries = 20\nmax_retry_wait_seconds = 3600\n"
                 "[scheduler]\npublish_every_minutes = 10080\n", "okrbridge.toml")
    assert load_settings(path, {}).jira.max_retries == 20
