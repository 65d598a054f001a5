"""A small fake Discord on 127.0.0.1: enough REST and gateway for discord.py 2.7 to run the real bot.

Discord cannot be reached from tests, and mocking discord.py would test our mocks. Instead discord.py
itself talks HTTP and websocket to this server, which records every request (method, path, JSON body,
multipart `payload_json` included) so tests can assert on exactly what the bot would have sent Discord.

Only what the bot uses is implemented, shaped after discord.py's own expectations
(discord/http.py, discord/gateway.py, discord/interactions.py, discord/webhook/async_.py).

Sharding as Discord does it: `GET /gateway/bot` recommends `shard_count` shards; a connection that IDENTIFYs with
`shard: [id, count]` gets a READY naming that shard and only the guilds routed to it, `(guild_id >> 22) % count`;
and an event about a guild goes down the connection of that guild's shard. `add_guild` makes more guilds.
"""

import asyncio
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
import yarl
from aiohttp import WSMsgType, web

API_PREFIX = "/api/v10"
# Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes)
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 7, 10, 11
MANAGE_MESSAGES = discord.Permissions(manage_messages=True)
MEMBER_PERMISSIONS = discord.Permissions(send_messages=True)
EVERYONE_PERMISSIONS = discord.Permissions.text() | discord.Permissions(view_channel=True)  # the @everyone role's, as a new server's


def _json(data: Any, status: int = 200) -> web.Response:
    """JSON with exactly the content type Discord sends: discord.py compares it verbatim (no charset)."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the /api/v10 prefix, e.g. "/channels/3/messages"
    query: dict[str, str]
    json: Any  # the JSON body, or the multipart payload_json; None when there was no body
    at: float  # event-loop time when the server received it

    def match(self, method: str, pattern: str) -> re.Match | None:
        return re.fullmatch(pattern, self.path) if self.method == method else None


@dataclass
class GatewaySession:
    """One websocket connection from the bot: what it sent and when."""

    socket: web.WebSocketResponse
    query: dict[str, str]
    identify: dict | None = None
    resume: dict | None = None
    heartbeats: list[float] = field(default_factory=list)
    resumed: "GatewaySession | None" = None  # the connection whose session this one RESUMEd

    @property
    def identified(self) -> dict | None:
        """The IDENTIFY this connection's session began with (a resumed session's came on an earlier connection)."""
        return self.identify or (self.resumed.identified if self.resumed else None)

    @property
    def shard(self) -> tuple[int, int] | None:
        """(shard id, shard count) as IDENTIFY gave them; None before IDENTIFY or for an unsharded connection."""
        shard = (self.identified or {}).get("shard")
        return (int(shard[0]), int(shard[1])) if shard else None

    def serves(self, guild_id: int) -> bool:
        """Whether Discord sends this connection the guild's events: every guild unsharded, else its shard's."""
        if self.identified is None:
            return False
        return self.shard is None or (guild_id >> 22) % self.shard[1] == self.shard[0]


@dataclass
class Fault:
    """Answer the next `times` requests (None: every one) matching `method`, `pattern` and `only` with `status`
    instead of serving them."""

    method: str
    pattern: str  # a regular expression over the path, as in `RecordedRequest.match`
    status: int
    times: int | None = 1
    retry_after: float = 0.0  # for 429: seconds, in the body (what discord.py reads) and the Retry-After header
    only: Callable[[RecordedRequest], bool] | None = None  # e.g. only the requests carrying an answer's embeds
    hits: list[RecordedRequest] = field(default_factory=list)

    def applies_to(self, request: RecordedRequest) -> bool:
        return ((self.times is None or len(self.hits) < self.times) and request.match(self.method, self.pattern)
                and (self.only is None or self.only(request)))

    def response(self) -> web.Response:
        if self.status == 429:
            # Discord's rate-limit answer; discord.py retries it only when `Via` shows it came through Discord's
            # proxy, and treats a 429 without it as a Cloudflare ban.
            body = {"message": "You are being rate limited.", "retry_after": self.retry_after, "global": False}
            headers = {"Retry-After": str(self.retry_after), "X-RateLimit-Scope": "user", "Via": "1.1 google"}
        else:
            body, headers = {"message": f"{self.status}: fault injected by the fake Discord", "code": 0}, {}
        return web.Response(body=json.dumps(body).encode(), status=self.status,
                            headers={"Content-Type": "application/json", **headers})


@dataclass
class ChannelOption:
    channel: dict
    permissions: discord.Permissions  # the member's, in that channel

    def resolved(self) -> dict:
        keys = ("id", "type", "name", "guild_id", "position", "permission_overwrites")
        return {**{k: self.channel[k] for k in keys}, "permissions": str(self.permissions.value)}


def _option(name: str, value) -> dict:
    """A command option as Discord sends it: 3 string, 4 integer, 5 boolean, 7 channel."""
    if isinstance(value, ChannelOption):
        return {"name": name, "type": 7, "value": value.channel["id"]}
    kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 3
    return {"name": name, "type": kind, "value": value}


class FakeDiscord:
    """The server plus a few snowflakes: one application, one bot user, one guild with one channel."""

    APPLICATION_ID = 1100000000000000001
    BOT_USER_ID = 1100000000000000002
    OWNER_ID = 1100000000000000003
    GUILD_ID = 1100000000000000004
    CHANNEL_ID = 1100000000000000005
    OTHER_CHANNEL_ID = 1100000000000000006  # a second text channel ("announcements"), e.g. the story feed's

    def __init__(self, *, heartbeat_interval: float = 0.2, shard_count: int = 1) -> None:
        self.heartbeat_interval = heartbeat_interval
        self.shard_count = shard_count  # what GET /gateway/bot recommends
        self.guild_channels: dict[int, int] = {self.GUILD_ID: self.CHANNEL_ID}  # guild id -> its one text channel
        self.requests: list[RecordedRequest] = []
        self.sessions: list[GatewaySession] = []
        self.synced_commands: list[dict] = []
        self.response_messages: dict[int, dict] = {}  # interaction id -> the message its response created
        self.attachments: dict[int, bytes] = {}  # attachment id -> the uploaded bytes, served at its url
        self.faults: list[Fault] = []  # see `fail`
        self._snowflakes = itertools.count(1200000000000000000)
        self._sequence = 0
        self._send_lock = asyncio.Lock()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---------------------------------------------------------------- server lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        app.router.add_get("/attachments/{id}/{filename}", self._attachment)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for session in self.sessions:
            await session.socket.close()
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def point_discord_py_here(self) -> None:
        """Process-wide: every discord.py client created afterwards talks to this server."""
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    # ---------------------------------------------------------------- what tests use

    def snowflake(self) -> int:
        return next(self._snowflakes)

    def loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    @property
    def session(self) -> GatewaySession:
        return self.sessions[-1]

    @property
    def heartbeats(self) -> list[float]:
        return [beat for session in self.sessions for beat in session.heartbeats]

    def add_guild(self, *, shard: int = 0, shard_count: int = 1) -> int:
        """A new guild, with one text channel, whose id routes it to `shard` of `shard_count`; returns its id."""
        while ((guild_id := self.snowflake()) >> 22) % shard_count != shard:
            pass
        self.guild_channels[guild_id] = self.snowflake()
        return guild_id

    def session_for(self, guild_id: int) -> GatewaySession:
        """The newest open connection that Discord would send this guild's events down (the newest of all if none)."""
        serving = [s for s in self.sessions if s.serves(guild_id) and not s.socket.closed]
        return serving[-1] if serving else self.session

    async def dispatch(self, event: str, data: dict, *, session: GatewaySession | None = None) -> float:
        """Send a gateway event to the bot, down its guild's shard unless `session` is given; returns the loop time it was sent."""
        if session is None:
            guild_id = data.get("guild_id") if isinstance(data, dict) else None
            session = self.session_for(int(guild_id)) if guild_id else self.session
        self._sequence += 1
        await self._send(session.socket, {"op": DISPATCH, "t": event, "s": self._sequence, "d": data})
        return self.loop_time()

    async def send_op(self, op: int, data: Any = None) -> None:
        await self._send(self.session.socket, {"op": op, "d": data})

    async def wait_for(self, condition, timeout: float = 30.0):
        """Wait until `condition()` returns something truthy (re-checked after every request) and return it."""

        async def check():
            async with self._changed:
                while not (result := condition()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(check(), timeout)

    def fail(
        self, method: str, pattern: str, status: int, *, times: int | None = 1, retry_after: float = 0.0,
        only: Callable[[RecordedRequest], bool] | None = None,
    ) -> Fault:
        """Fault injection: the next `times` matching requests (None: all) get `status` (500, 429 with `retry_after`, ...)."""
        fault = Fault(method, pattern, status, times, retry_after, only)
        self.faults.append(fault)
        return fault

    async def drop_gateway(self, *, code: int | None = 4000) -> GatewaySession:
        """Close the bot's gateway connection: with a close `code`, or with None abruptly (no close frame)."""
        session = self.session
        if code is None:
            session.socket._writer.transport.abort()  # the TCP connection just goes away
        else:
            await session.socket.close(code=code)
        return session

    def find(self, method: str, pattern: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.match(method, pattern)]

    def callbacks(self, interaction_id: int) -> list[RecordedRequest]:
        return self.find("POST", rf"/interactions/{interaction_id}/[^/]+/callback")

    def followups(self, token: str) -> list[RecordedRequest]:
        return self.find("POST", rf"/webhooks/{self.APPLICATION_ID}/{re.escape(token)}")

    def interaction_requests(self, interaction_id: int, token: str) -> list[RecordedRequest]:
        """Everything the bot sent in answer to one interaction, in order."""
        token_path = re.escape(token)
        return [
            r
            for r in self.requests
            if re.fullmatch(rf"/interactions/{interaction_id}/{token_path}/callback", r.path)
            or re.fullmatch(rf"/webhooks/{self.APPLICATION_ID}/{token_path}(/.*)?", r.path)
        ]

    # ---------------------------------------------------------------- payloads Discord would send

    def user(self, user_id: int, name: str = "member") -> dict:
        return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name, "avatar": None, "bot": False}

    @property
    def bot_user(self) -> dict:
        return {**self.user(self.BOT_USER_ID, "storybot"), "bot": True, "verified": True, "mfa_enabled": False, "flags": 0}

    def member(self, user_id: int, permissions: discord.Permissions) -> dict:
        return {
            "user": self.user(user_id),
            "roles": [],
            "joined_at": "2025-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(permissions.value),  # what Discord computes for the member in the channel
        }

    @property
    def channel(self) -> dict:
        return self.channel_of(self.GUILD_ID)

    def channel_of(self, guild_id: int) -> dict:
        return {"id": str(self.guild_channels[guild_id]), "type": 0, "guild_id": str(guild_id), "name": "news", "position": 0,
                "permission_overwrites": []}

    @property
    def other_channel(self) -> dict:
        return {"id": str(self.OTHER_CHANNEL_ID), "type": 0, "guild_id": str(self.GUILD_ID), "name": "announcements",
                "position": 1, "permission_overwrites": []}

    def channel_option(self, channel: dict, permissions: discord.Permissions) -> ChannelOption:
        """A channel picked for a command option (type 7), resolved as Discord sends it: with `permissions`, those of
        the member who picked it in that channel."""
        return ChannelOption(channel, permissions)

    def interaction(self, interaction_type: int, data: dict, *, user_id: int | None = None,
                    permissions: discord.Permissions = MEMBER_PERMISSIONS, message: dict | None = None,
                    guild_id: int | None = None) -> dict:
        """`guild_id`: where it happens (one of `guild_channels`, in its channel); the first guild by default."""
        interaction_id, guild_id = self.snowflake(), guild_id or self.GUILD_ID
        payload = {
            "id": str(interaction_id),
            "application_id": str(self.APPLICATION_ID),
            "type": interaction_type,
            "token": f"interaction-token-{interaction_id}",
            "version": 1,
            "guild_id": str(guild_id),
            "channel_id": str(self.guild_channels[guild_id]),
            "channel": self.channel_of(guild_id),
            "member": self.member(user_id or self.snowflake(), permissions),
            "data": data,
            "app_permissions": str(discord.Permissions.text().value),
            "locale": "en-GB",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        return payload

    def slash_command(self, name: str, options: dict[str, str | bool | int | ChannelOption] | None = None, **kwargs) -> dict:
        """An INTERACTION_CREATE for `/name option:value` (type 2 = application command): a string, boolean, integer
        or `channel_option()`, each sent with its own option type."""
        options = options or {}
        data = {
            "id": str(self._command_id(name)),
            "name": name,
            "type": 1,
            "guild_id": str(kwargs.get("guild_id") or self.GUILD_ID),
            "options": [_option(key, value) for key, value in options.items()],
        }
        if channels := {value.channel["id"]: value.resolved() for value in options.values() if isinstance(value, ChannelOption)}:
            data["resolved"] = {"channels": channels}
        return self.interaction(2, data, **kwargs)

    def autocomplete(self, name: str, option: str, typed: str, **kwargs) -> dict:
        """An INTERACTION_CREATE while someone types into `option` (type 4 = autocomplete)."""
        data = {
            "id": str(self._command_id(name)),
            "name": name,
            "type": 1,
            "guild_id": str(self.GUILD_ID),
            "options": [{"name": option, "type": 3, "value": typed, "focused": True}],
        }
        return self.interaction(4, data, **kwargs)

    def button_click(self, custom_id: str, message: dict, **kwargs) -> dict:
        """An INTERACTION_CREATE for a button on `message` (type 3 = message component, 2 = button)."""
        return self.interaction(3, {"custom_id": custom_id, "component_type": 2}, message=message, **kwargs)

    def select_pick(self, custom_id: str, values: list[str], message: dict, **kwargs) -> dict:
        """An INTERACTION_CREATE for options picked in a select menu on `message` (type 3 = message component, 3 =
        string select)."""
        return self.interaction(3, {"custom_id": custom_id, "component_type": 3, "values": values}, message=message, **kwargs)

    def message_create(self, content: str, *, author_id: int, mentions_bot: bool = True, reply_to: dict | None = None) -> dict:
        """A member's message; `reply_to` (a message as Discord made it) makes it a reply, as Discord sends one."""
        message = {
            **self._message(self.CHANNEL_ID, {"content": content}, author=self.user(author_id)),
            "guild_id": str(self.GUILD_ID),
            "member": {k: v for k, v in self.member(author_id, discord.Permissions.none()).items() if k != "user"},
            "mentions": [self.bot_user] if mentions_bot else [],
        }
        if reply_to is not None:
            message |= {"type": 19, "referenced_message": reply_to, "message_reference": {
                "message_id": reply_to["id"], "channel_id": reply_to["channel_id"], "guild_id": str(self.GUILD_ID)}}
        return message

    def attachment(self, filename: str, data: bytes) -> dict:
        """A file uploaded with a command, as Discord resolves it; `Attachment.read()` GETs its bytes from here."""
        attachment_id = self.snowflake()
        self.attachments[attachment_id] = data
        url = f"http://127.0.0.1:{self.port}/attachments/{attachment_id}/{filename}"
        return {"id": str(attachment_id), "filename": filename, "size": len(data), "url": url, "proxy_url": url,
                "content_type": "text/plain; charset=utf-8"}

    def subcommand(self, group: str, name: str, options: dict[str, str | dict] | None = None, **kwargs) -> dict:
        """`/group name option:value`; an option whose value is an `attachment()` is sent as that uploaded file."""
        options = options or {}
        data = {
            "id": str(self._command_id(group)),
            "name": group,
            "type": 1,
            "guild_id": str(kwargs.get("guild_id") or self.GUILD_ID),
            "options": [{"name": name, "type": 1, "options": [  # 1 = subcommand, 11 = attachment, 3 = string
                {"name": key, "type": 11, "value": value["id"]} if isinstance(value, dict) else {"name": key, "type": 3, "value": value}
                for key, value in options.items()
            ]}],
        }
        if attachments := {value["id"]: value for value in options.values() if isinstance(value, dict)}:
            data["resolved"] = {"attachments": attachments}
        return self.interaction(2, data, **kwargs)

    def subcommand_autocomplete(self, group: str, name: str, option: str, typed: str, **kwargs) -> dict:
        data = {
            "id": str(self._command_id(group)),
            "name": group,
            "type": 1,
            "guild_id": str(self.GUILD_ID),
            "options": [{"name": name, "type": 1, "options": [{"name": option, "type": 3, "value": typed, "focused": True}]}],
        }
        return self.interaction(4, data, **kwargs)

    def sent_message(self, request: RecordedRequest) -> dict:
        """The message Discord made from a recorded follow-up or channel message, e.g. to click its buttons."""
        webhook_id = self.APPLICATION_ID if request.path.startswith("/webhooks/") else None
        return self._message(self.CHANNEL_ID, request.json, webhook_id=webhook_id)

    def _command_id(self, name: str) -> int:
        for command in self.synced_commands:
            if command["name"] == name:
                return int(command["id"])
        return 0

    # ---------------------------------------------------------------- gateway

    async def _send(self, socket: web.WebSocketResponse, payload: dict) -> None:
        async with self._send_lock:
            await socket.send_str(json.dumps(payload))  # plain text frames: discord.py accepts them uncompressed

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        session = GatewaySession(socket, dict(request.query))
        self.sessions.append(session)
        await self._send(socket, {"op": HELLO, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}})
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            if payload["op"] == HEARTBEAT:
                session.heartbeats.append(self.loop_time())
                await self._send(socket, {"op": HEARTBEAT_ACK})
            elif payload["op"] == IDENTIFY:
                session.identify = payload["d"]
                await self._identified(session)
            elif payload["op"] == RESUME:
                session.resume = payload["d"]
                resumed_id = session.resume.get("session_id")
                session.resumed = next((s for s in self.sessions if s is not session and self._session_id(s) == resumed_id), None)
                await self.dispatch("RESUMED", {})
            await self._notify()
        return socket

    async def _identified(self, session: GatewaySession) -> None:
        """READY naming the connection's shard and its guilds, then each of those guilds, as Discord does."""
        guilds = [guild_id for guild_id in self.guild_channels if session.serves(guild_id)]
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": str(guild_id), "unavailable": True} for guild_id in guilds],
            "session_id": self._session_id(session),
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.APPLICATION_ID), "flags": 0},
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        await self.dispatch("READY", ready, session=session)
        for guild_id in guilds:
            await self.dispatch("GUILD_CREATE", self._guild(guild_id), session=session)

    def _session_id(self, session: GatewaySession) -> str:
        return f"fake-session-{self.sessions.index(session) + 1}"

    def _guild(self, guild_id: int) -> dict:
        return {
            "id": str(guild_id),
            "name": "Fictional Newsroom",
            "unavailable": False,
            "member_count": 2,
            "large": False,
            "owner_id": str(self.OWNER_ID),
            "joined_at": "2025-01-01T00:00:00+00:00",
            "roles": [{"id": str(guild_id), "name": "@everyone", "permissions": str(EVERYONE_PERMISSIONS.value),
                       "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
            "channels": [self.channel_of(guild_id)] + ([self.other_channel] if guild_id == self.GUILD_ID else []),
            "members": [{**self.member(self.BOT_USER_ID, discord.Permissions.none()), "user": self.bot_user}],
            "threads": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "voice_states": [],
            "presences": [],
        }

    # ---------------------------------------------------------------- REST

    async def _attachment(self, request: web.Request) -> web.Response:
        data = self.attachments.get(int(request.match_info["id"]))
        return web.Response(body=data) if data is not None else web.Response(status=404)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        recorded = RecordedRequest(request.method, path, dict(request.query), await self._body(request), self.loop_time())
        self.requests.append(recorded)
        try:
            for fault in self.faults:
                if fault.applies_to(recorded):
                    fault.hits.append(recorded)
                    return fault.response()
            return await self._answer(recorded)
        finally:
            await self._notify()

    @staticmethod
    async def _body(request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.name == "payload_json":
                    return json.loads(await part.text())
            return None
        text = await request.text()
        return json.loads(text) if text else None

    async def _answer(self, request: RecordedRequest) -> web.Response:
        app, body = self.APPLICATION_ID, request.json or {}
        if request.match("GET", "/users/@me"):
            return _json(self.bot_user)
        if request.match("GET", "/oauth2/applications/@me"):
            return _json({
                "id": str(app), "name": "storybot", "description": "", "icon": None, "bot_public": False,
                "bot_require_code_grant": False, "owner": self.user(self.OWNER_ID, "owner"), "verify_key": "0" * 64,
                "flags": 0, "team": None,
            })
        if request.match("GET", "/gateway(/bot)?"):
            return _json({"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": {
                "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}})
        if request.match("PUT", rf"/applications/{app}(/guilds/\d+)?/commands"):
            self.synced_commands = [
                {**command, "id": str(self.snowflake()), "application_id": str(app), "version": "1"} for command in body
            ]
            return _json(self.synced_commands)
        if match := request.match("POST", r"/interactions/(\d+)/([^/]+)/callback"):
            return self._interaction_callback(int(match[1]), body)
        if match := request.match("POST", rf"/webhooks/{app}/([^/]+)"):
            return _json(self._message(self.CHANNEL_ID, body, webhook_id=app))
        if request.match("PATCH", rf"/webhooks/{app}/[^/]+/messages/[^/]+"):
            return _json(self._message(self.CHANNEL_ID, body, webhook_id=app))
        if request.match("DELETE", rf"/webhooks/{app}/[^/]+/messages/[^/]+"):
            return web.Response(status=204)
        if match := request.match("POST", r"/channels/(\d+)/messages"):
            return _json(self._message(int(match[1]), body))
        if request.match("POST", r"/channels/\d+/typing"):
            return web.Response(status=204)
        if request.match("POST", "/users/@me/channels"):
            recipient = self.user(int(body["recipient_id"]))
            return _json({"id": str(self.snowflake()), "type": 1, "recipients": [recipient], "last_message_id": None})
        return _json({"message": "404: Not Found (fake Discord)", "code": 0}, status=404)

    def _interaction_callback(self, interaction_id: int, body: dict) -> web.Response:
        response_type = body["type"]
        data = body.get("data") or {}
        if response_type in (6, 8):  # deferred update, autocomplete result: nothing to show
            return web.Response(status=204)
        message = self._message(self.CHANNEL_ID, data, webhook_id=self.APPLICATION_ID)
        self.response_messages[interaction_id] = message
        resource: dict[str, Any] = {"type": response_type}
        if response_type in (4, 7):  # a message, or an edit of the component's message
            resource["message"] = message
        return _json({
            "interaction": {
                "id": str(interaction_id),
                "type": 2,
                "response_message_id": message["id"],
                "response_message_loading": response_type == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & 64),
            },
            "resource": resource,
        })

    def _message(self, channel_id: int, body: dict, *, webhook_id: int | None = None, author: dict | None = None) -> dict:
        message = {
            "id": str(self.snowflake()),
            "channel_id": str(channel_id),
            "author": author or self.bot_user,
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "type": 0,
            "flags": body.get("flags", 0),
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
        }
        if webhook_id is not None:
            message["webhook_id"] = str(webhook_id)
            message["application_id"] = str(webhook_id)
        return message
