"""`ainews` settings: the environment, `.env` in the working directory, paths from
home, the user data and feeds files; each mistake is one line."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_kit import run_cli, db_env


env = pytest.fixture(db_env, name="env")
KEY = Path(__file__).parent / "data" / "tls" / "server.key"   # a key: no certificate in it


@pytest.mark.parametrize("var,value,words", [
    ("AINEWS_POLL_MINUTES", "abc", "AINEWS_POLL_MINUTES='abc' is not a number"),
    ("AINEWS_POLL_MINUTES", "-1", "AINEWS_POLL_MINUTES='-1' must be at least"),
    ("AINEWS_ALLOW_PRIVATE_HOSTS", "maybe", "AINEWS_ALLOW_PRIVATE_HOSTS='maybe' is not a yes/no"),
    ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL='slack.com/api' must start with http"),
    ("DISCORD_GUILD_ID", "guild", "DISCORD_GUILD_ID='guild' is not a whole number"),
    # Not numbers a schedule or a timeout can use: they crashed every feed's poll.
    ("AINEWS_POLL_MINUTES", "nan", "AINEWS_POLL_MINUTES='nan' is not a number"),
    ("AINEWS_POLL_MINUTES", "inf", "AINEWS_POLL_MINUTES='inf' must be at most 1440"),
    ("AINEWS_POLL_MINUTES", "1e308", "AINEWS_POLL_MINUTES='1e308' must be at most"),
    ("LLM_TIMEOUT", "nan", "LLM_TIMEOUT='nan' is not a number"),
    ("LLM_CONCURRENCY", "0", "LLM_CONCURRENCY='0' must be at least 1"),
    ("AINEWS_HTTP_PORT", "99999", "AINEWS_HTTP_PORT='99999' must be at most 65535"),
    ("AINEWS_CA_FILE", "/no/such/ca.pem", "AINEWS_CA_FILE='/no/such/ca.pem': cannot read it "
                                          "(No such file or directory)"),
    ("AINEWS_CA_FILE", str(KEY), f"AINEWS_CA_FILE='{KEY}' holds no PEM certificate"),
    ("AINEWS_MAX_POST_AGE_HOURS", "2d", "AINEWS_MAX_POST_AGE_HOURS='2d' is not a number"),
    ("AINEWS_MAX_POST_AGE_HOURS", "-1", "AINEWS_MAX_POST_AGE_HOURS='-1' must be at least 0"),
    ("AINEWS_MAX_POST_AGE_HOURS", "nan", "AINEWS_MAX_POST_AGE_HOURS='nan' is not a number"),
    ("AINEWS_KEEP_DAYS", "abc", "AINEWS_KEEP_DAYS='abc' is not a whole number"),
    ("AINEWS_KEEP_DAYS", "-1", "AINEWS_KEEP_DAYS='-1' must be at least 0"),
    ("AINEWS_KEEP_DAYS", "2", "AINEWS_KEEP_DAYS='2' is too few (stories are clustered by "
                              "their text within 48 h); use 3 or more days, or unlimited "
                              "(0: the same, keep everything)"),
    ("AINEWS_MAX_POST_AGE_HOURS", "none", "AINEWS_MAX_POST_AGE_HOURS='none' is not a number; "
                                          "use a number of hours or unlimited"),
    # "is not a whole number" alone, though the other caps take `unlimited`.
    ("AINEWS_CHANNEL_HOURLY_CAP", "unlimited", "AINEWS_CHANNEL_HOURLY_CAP='unlimited': a "
                                               "channel's posts always have a cap (past it "
                                               "they go out in roundups); use a number of "
                                               "posts an hour, 1 or more, e.g. 60"),
    ("AINEWS_CHANNEL_HOURLY_CAP", "0", "AINEWS_CHANNEL_HOURLY_CAP='0' must be at least 1; use "
                                       "a number of posts an hour, 1 or more, e.g. 60"),
    ("AINEWS_CHANNELS_PER_SERVER", "0", "AINEWS_CHANNELS_PER_SERVER='0' must be at least 1; "
                                        "use a number of channels, 1 or more, or unlimited"),
    # Half an LLM configuration left the LLM condenser off without a word.
    ("LLM_BASE_URL", "http://127.0.0.1:11434/v1", "LLM_MODEL is not set"),
    ("LLM_API_KEY", "sk-test", "LLM_MODEL is not set"),
    ("LLM_MODEL", "qwen-plus", "LLM_BASE_URL or LLM_API_KEY"),
    # Kept as a path, 'file://nas/x.db' was the local file /nas/x.db.
    ("AINEWS_DB", "file://nas/ainews.db", "AINEWS_DB='file://nas/ainews.db' names the host "
                                          "'nas'; SQLite opens local files only"),
    # A proxy the clients could not use.
    ("HTTPS_PROXY", "socks5://proxy.corp:1080", "HTTPS_PROXY='socks5://proxy.corp:1080' is a "
                                                "socks5:// proxy; only http:// proxies"),
    ("https_proxy", "http://:3128", "https_proxy='http://:3128' needs a host and port"),
    ("HTTP_PROXY", "http://proxy.corp:port", "HTTP_PROXY='http://proxy.corp:port' needs a host "
                                             "and port, e.g. http://proxy.corp:3128"),
    # The usual slip: the proxy's own address is http:// even for https traffic.
    ("HTTPS_PROXY", "https://proxy.corp:3128", "must start with http://"),
    ("NO_PROXY", "localhost,10.0.0.0/33", "NO_PROXY='localhost,10.0.0.0/33' entry "
                                          "'10.0.0.0/33' is not a network"),
])
def test_bad_setting_stops_with_one_line(env, capsys, var, value, words):
    env.setenv(var, value)
    code, out, err = run_cli(capsys, "latest")
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("var, value", [
    ("SLACK_BOT_TOKEN", "xoxb-1-s3cret # bot token"), ("SLACK_APP_TOKEN", "xapp-1-s3cret #app"),
    ("SLACK_SIGNING_SECRET", "5ecret0a9f # HTTP mode"), ("LLM_API_KEY", "sk-s3cret  # qwen"),
])
def test_a_token_with_an_inline_comment_is_refused_with_the_reason(env, capsys, var, value):
    """`docker run --env-file` keeps `# comment` after a value as part of it: Slack
    refused the token as invalid_auth, the LLM every call as 401, with no hint why."""
    env.setenv(var, value)
    env.setenv("LLM_MODEL", "qwen-plus")
    code, out, err = run_cli(capsys, "latest")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"{var}=[not shown] holds a space" in err and "--env-file" in err and "#" in err
    assert "s3cret" not in err


def test_dotenv_is_read_from_the_working_directory(env, capsys, tmp_path):
    (tmp_path / ".env").write_text("AINEWS_POLL_MINUTES=soon\n")
    code, _, err = run_cli(capsys, "latest")
    assert code == 2 and "AINEWS_POLL_MINUTES='soon'" in err


@pytest.mark.parametrize("line, words", [
    ("AINEWS_POLL_MINUTE=1", "sets AINEWS_POLL_MINUTE, which ainews does not read (did you "
                             "mean AINEWS_POLL_MINUTES?)"),
    # .env.example alone was named: a pip install or the Docker image has none.
    ("AINEWS_FOO=1", "sets AINEWS_FOO, which ainews does not read; fix or remove it (the "
                     "README's \"Running it for real\" lists the settings, as does "
                     ".env.example in a checkout)"),
    ("SLACK_BOT_TOKN=xoxb-1", "(did you mean SLACK_BOT_TOKEN?)"),
    # Names are case-sensitive: these were skipped without a word, as misspelt ones were.
    ("ainews_poll_minutes=1", "sets ainews_poll_minutes, which ainews does not read (did "
                              "you mean AINEWS_POLL_MINUTES?)"),
    ("slack_bot_token=xoxb-1", "(did you mean SLACK_BOT_TOKEN?)"),
    # The token's own prefix names the setting: SLACK_BOT_TOKEN was suggested for xapp-.
    ("SLACK_SOCKET_TOKEN=xapp-1-A1-2", "(did you mean SLACK_APP_TOKEN?)"),
    ("SLACK_APP_TOKN=xoxb-1", "(did you mean SLACK_BOT_TOKEN?)"),
    ("AINEWS_CONSOLE", "names AINEWS_CONSOLE without a value; write AINEWS_CONSOLE=VALUE"),
])
def test_a_misspelt_setting_in_dotenv_is_one_line(env, capsys, tmp_path, line, words):
    # The misspelt line was skipped without a word: the default applied while the
    # operator believed the setting was in force.
    (tmp_path / ".env").write_text(f"AINEWS_DB={tmp_path / 'x.db'}\n{line}\n")
    code, _, err = run_cli(capsys, "latest")
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


def test_another_tools_settings_in_dotenv_are_left_alone(env, capsys, tmp_path):
    (tmp_path / ".env").write_text("SLACK_WEBHOOK_URL=https://hooks.example/x\n"
                                   "COMPOSE_PROJECT_NAME=news\nslack_webhook_url=x\n"
                                   "export PATH\nAINEWS_POLL_MINUTES=soon\n")
    code, _, err = run_cli(capsys, "latest")
    assert code == 2 and "AINEWS_POLL_MINUTES='soon'" in err     # read past them


@pytest.mark.parametrize("environ, lines", [
    ({"AINEWS_POL_MINUTES": "5"}, ["config: the environment sets AINEWS_POL_MINUTES, which "
                                   "ainews does not read (did you mean AINEWS_POLL_MINUTES?); "
                                   "ignored: fix or remove it"]),
    ({"AINEWS_FOO": "1", "AINEWS_MAX_POST_AGE": "6"}, [
        "config: the environment sets AINEWS_FOO, which ainews does not read; ignored: fix "
        "or remove it",
        "config: the environment sets AINEWS_MAX_POST_AGE, which ainews does not read (did "
        "you mean AINEWS_MAX_POST_AGE_HOURS?); ignored: fix or remove it"]),
    # A Kubernetes Service named ainews (or ainews-web) injects these into every pod.
    ({"AINEWS_SERVICE_HOST": "10.0.0.7", "AINEWS_SERVICE_PORT": "3000",
      "AINEWS_SERVICE_PORT_HTTP": "3000", "AINEWS_PORT": "tcp://10.0.0.7:3000",
      "AINEWS_PORT_3000_TCP": "tcp://10.0.0.7:3000", "AINEWS_PORT_3000_TCP_PROTO": "tcp",
      "AINEWS_PORT_3000_TCP_PORT": "3000", "AINEWS_PORT_3000_TCP_ADDR": "10.0.0.7",
      "AINEWS_WEB_SERVICE_HOST": "10.0.0.8", "AINEWS_WEB_PORT": "udp://10.0.0.8:53"}, []),
    # Not a service link: a port number, as AINEWS_HTTP_PORT takes.
    ({"AINEWS_PORT": "3000"}, ["config: the environment sets AINEWS_PORT, which ainews does "
                               "not read (did you mean AINEWS_HTTP_PORT?); ignored: fix or "
                               "remove it"]),
    # A Service named ainews-http (Slack's HTTP mode) names a setting: start-up stopped
    # on "AINEWS_HTTP_PORT='tcp://...' is not a whole number"; the default port applies.
    ({"AINEWS_HTTP_SERVICE_HOST": "10.0.0.9", "AINEWS_HTTP_PORT": "tcp://10.0.0.9:3000"}, [
        "config: the environment sets AINEWS_HTTP_PORT=tcp://10.0.0.9:3000, a service "
        "link, not a setting: a Kubernetes Service or a Docker --link named ainews-http "
        "puts it there; ignored (rename that, or set enableServiceLinks: false in the pod "
        "spec)"]),
    # So does a container linked as ainews_http (docker run --link x:ainews_http), which
    # was told as a Kubernetes Service to be fixed in a pod spec.
    ({"AINEWS_HTTP_NAME": "/bot/ainews_http", "AINEWS_HTTP_PORT": "tcp://172.17.0.5:80"}, [
        "config: the environment sets AINEWS_HTTP_PORT=tcp://172.17.0.5:80, a service "
        "link, not a setting: a Kubernetes Service or a Docker --link named ainews-http "
        "puts it there; ignored (rename that, or set enableServiceLinks: false in the pod "
        "spec)"]),
    # Docker's legacy links (docker run --link db:ainews, or :ainews-web) add the linked
    # container's name and its environment (a linked ainews's settings among it).
    ({"AINEWS_NAME": "/bot/ainews", "AINEWS_PORT": "tcp://172.17.0.5:8080",
      "AINEWS_PORT_8080_TCP": "tcp://172.17.0.5:8080", "AINEWS_PORT_8080_TCP_ADDR":
      "172.17.0.5", "AINEWS_PORT_8080_TCP_PORT": "8080", "AINEWS_PORT_8080_TCP_PROTO": "tcp",
      "AINEWS_ENV_AINEWS_POLL_MINUTES": "5", "AINEWS_ENV_PATH": "/usr/local/bin",
      "AINEWS_WEB_NAME": "/bot/ainews-web", "AINEWS_WEB_ENV_LANG": "C.UTF-8"}, []),
    # Not a link's name: a container's is /itself/alias.
    ({"AINEWS_NAME": "news"}, ["config: the environment sets AINEWS_NAME, which ainews "
                               "does not read; ignored: fix or remove it"]),
    # Other prefixes are shared with the libraries (slack_bolt reads SLACK_CLIENT_ID).
    ({"SLACK_CLIENT_ID": "1.2", "LLM_USER_PATH": "x", "DISCORD_BOT_TOKN": "x"}, []),
], ids=["typo", "two", "kubernetes", "port", "kubernetes-setting", "docker-link-setting",
        "docker-link",
        "docker-name", "other-prefixes"])
def test_an_unknown_setting_in_the_environment_is_one_warning_each(env, capsys, environ,
                                                                   lines):
    """AINEWS_POL_MINUTES=5 in the environment (docker -e, a unit's Environment=) was
    skipped without a word: the default applied while the operator believed the
    setting was in force. It is no error there (the bot starts), as the environment
    also holds what other programs put in it."""
    for name, value in environ.items():
        env.setenv(name, value)
    code, out, err = run_cli(capsys, "chat", "help")
    said = [line.split(" WARNING ", 1)[1].strip() for line in err.splitlines()
            if " WARNING " in line]
    assert code == 0 and said == lines, err


@pytest.mark.parametrize("content, words", [
    # Notepad's "Unicode" is UTF-16: the .env gave a UnicodeDecodeError traceback.
    ("AINEWS_POLL_MINUTES=5\n".encode("utf-16"), ".env is not UTF-8"),
    # A line python-dotenv can't read was skipped without a word: the default applied.
    (b'AINEWS_POLL_MINUTES="5\n', ".env line 1 (AINEWS_POLL_MINUTES) cannot be read"),
    (b"A=1\nexport SLACK_BOT_TOKEN='xoxb-secret\n", ".env line 2 (SLACK_BOT_TOKEN)"),
])
def test_unreadable_dotenv_is_one_line(env, capsys, tmp_path, content, words):
    (tmp_path / ".env").write_bytes(content)
    code, _, err = run_cli(capsys, "latest")
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert "xoxb" not in err   # the line is not quoted: it may hold a secret


def test_paths_from_home_are_expanded(env, capsys, tmp_path):
    # `.env`, docker's --env-file and systemd pass "~/..." as is (no shell expands it):
    # the database failed to open ("unable to open database file") and the feeds file
    # could not be read.
    env.setenv("HOME", str(tmp_path))
    (tmp_path / "feeds.toml").write_text('[[feed]]\nname = "Wire"\n'
                                         'url = "http://127.0.0.1:9/rss"\n')
    env.setenv("AINEWS_DB", "~/data/ainews.db")
    env.setenv("AINEWS_FEEDS", "~/feeds.toml")
    code, out, err = run_cli(capsys, "poll", "--once")
    assert code == 0 and "1 feed polled" in out
    assert (tmp_path / "data" / "ainews.db").is_file()
    code, out, err = run_cli(capsys, "--db=~/data/ainews.db", "status")
    assert code == 0 and "feeds      1 failing" in out, err


@pytest.mark.parametrize("argv", [
    ["latest", "--db", "{db}", "--json"], ["search", "openai", "--db", "{db}"],
    ["feeds", "list", "--db={db}"], ["--db", "{db}", "company", "qwen"]])
def test_db_is_taken_before_or_after_the_command(env, capsys, tmp_path, argv):
    """`ainews latest --db x.db` was "unrecognized arguments": --db is global, and
    users type it where the rest of the command is."""
    missing = tmp_path / "elsewhere.db"
    code, _, err = run_cli(capsys, *[a.format(db=missing) for a in argv])
    assert code == 2 and f"no database at {missing}" in err


def test_bad_user_data_file_is_one_line(env, capsys, tmp_path):
    (tmp_path / "mine.toml").write_text("[[company]\nname = ")
    env.setenv("AINEWS_USER_DATA", str(tmp_path / "mine.toml"))
    from storage.store import Store
    Store(tmp_path / "db" / "ainews.db").close()
    code, _, err = run_cli(capsys, "company", "qwen")
    assert code == 2 and "mine.toml" in err and len(err.strip().splitlines()) == 1
    assert "AINEWS_USER_DATA" in err      # where the path was set, not only the path


@pytest.mark.parametrize("argv", [("poll", "--once"), ("run", "--once")])
def test_a_missing_feeds_file_names_the_setting(env, capsys, tmp_path, argv):
    # "feeds: cannot read feeds.toml: No such file or directory" did not say which
    # setting to fix (the README promises one line naming the variable).
    env.setenv("AINEWS_FEEDS", str(tmp_path / "my-feeds.toml"))
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "my-feeds.toml" in err and "AINEWS_FEEDS" in err


@pytest.mark.parametrize("var, field", [("AINEWS_MAX_POST_AGE_HOURS", "max_post_age_hours"),
                                        ("AINEWS_KEEP_DAYS", "keep_days")])
def test_unlimited_lifts_a_limit_as_0_does(var, field):
    """One word lifts every limit (LLM_HOURLY_CAP=0 is no calls, so 0 can't be it there)."""
    from bot.config import load_settings
    lifted = [getattr(load_settings({var: raw}, dotenv_path=None), field)
              for raw in ("unlimited", "0")]
    assert lifted == [0, 0]


def test_unlimited_lifts_the_cap_of_channels_a_server_gets_posts_in():
    from bot.config import load_settings
    assert [load_settings({"AINEWS_CHANNELS_PER_SERVER": raw}, dotenv_path=None)
            .channels_per_server for raw in ("Unlimited", "200")] == [None, 200]


def test_a_service_link_does_not_hide_the_dotenv_value(tmp_path):
    from bot.config import load_settings
    # Slack's HTTP mode on 8080 set in .env (a ConfigMap mounted as a file); the pod also
    # gets AINEWS_HTTP_PORT=tcp://... from a Service named ainews-http. The link is
    # ignored, but so is the user's own .env value: the default 3000 applies and Slack's
    # requests go to a port nobody listens on.
    env = tmp_path / ".env"
    env.write_text("AINEWS_HTTP_PORT=8080\n")
    s = load_settings(environ={"AINEWS_HTTP_PORT": "tcp://10.0.0.9:3000"}, dotenv_path=env)
    assert s.http_port == 8080


@pytest.mark.parametrize("value", ["http://bob:s3cret@proxy.corp:port",
                                   "bob:s3cret@proxy.corp:port"])
def test_a_malformed_proxy_settings_credentials_are_not_shown(env, capsys, value):
    env.setenv("HTTPS_PROXY", value)
    code, out, err = run_cli(capsys, "latest")
    assert code == 2 and "***@proxy.corp:port" in err and "s3cret" not in err + out
    assert "bob" not in err


def test_proxy_settings_are_read_in_both_spellings_from_env_and_dotenv(tmp_path):
    from bot.config import load_settings
    env = tmp_path / ".env"
    env.write_text("HTTP_PROXY=http://file.corp:8080\nNO_PROXY=.corp\n")
    s = load_settings(environ={"HTTPS_PROXY": "http://upper.corp:3128",
                               "https_proxy": "bob:pw@lower.corp:3128"}, dotenv_path=env)
    # The lower-case spelling wins, as in curl and urllib; no scheme is http://.
    assert s.proxies.https.url == "http://bob:pw@lower.corp:3128"
    assert s.proxies.https.setting == "https_proxy"
    assert s.proxies.http.url == "http://file.corp:8080" and s.proxies.no_proxy == ("corp",)
    assert "pw" not in repr(s)
    assert not load_settings(environ={"HTTPS_PROXY": " "}, dotenv_path=None).proxies


@pytest.mark.parametrize("value, secret", [
    ("http://bob:pa/ss0rd@proxy.corp:3128", "ss0rd"),   # '/' ends the host part
    ("http://bob:p@ss0rd@proxy.corp:port", "ss0rd"),    # an '@' in it, and a bad port
    ("bob:pa/s@s0rd@proxy.corp:3128", "s0rd"),          # both, and no scheme
    ("bob:p@ss/0rd@proxy.corp:3128", "0rd"),            # read as proxy "ss", port 80
])
def test_a_proxy_password_a_url_cannot_hold_is_not_shown(env, capsys, value, secret):
    """Random passwords hold / and @; unencoded, the URL ends early and start-up stops
    with the setting quoted: _masked writes ***@ only for a user:password@ with no '/'
    before its '@', so the password went to the terminal and the service's journal."""
    env.setenv("HTTPS_PROXY", value)
    code, out, err = run_cli(capsys, "latest")
    assert code == 2 and "HTTPS_PROXY" in err
    assert secret not in err + out, err
