"""A real HTTP receiver on loopback that checks signatures, records every delivery and injects failures.

Tests use it in-process (`with Receiver(secret) as r: ...`); the activation benchmark runs it as its own
process so recording does not slow the sender:

    python tests/activation/receiver.py --port 8765 --secret S --record out.jsonl --fail-rate 0.1 --timeout-rate 0.1

Every accepted request is recorded as it arrives, without deduplicating, so a test can see a retry
redeliver the same idempotency keys. Injected 5xx answer without processing (kept in `rejected`);
injected timeouts process and record first, then stall past the client's timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import threading
import time
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

from kizuna.activation.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


class Receiver:
    def __init__(
        self,
        secret: bytes | str,
        *,
        fail_rate: float = 0.0,
        timeout_rate: float = 0.0,
        timeout_s: float = 2.0,
        seed: int = 0,
        record_path: str | None = None,
        port: int = 0,
        retry_after: float | None = None,
        fail_status: int | None = None,
    ):
        self.secret = secret
        self.fail_rate = fail_rate
        self.timeout_rate = timeout_rate
        self.timeout_s = timeout_s
        self.retry_after = retry_after  # sent as Retry-After on injected 503s when set
        self.fail_status = fail_status  # fixed status for injected failures (else 500 or 503 at random)
        self.deliveries: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.bodies: dict[str, list[dict[str, Any]]] = {}
        self._forced: list[int] = []  # statuses to answer next, whatever the rates say
        self._down = False
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._record = open(record_path, "ab") if record_path else None  # closed in stop()
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # -- controls -------------------------------------------------------------------------------
    def down(self) -> None:
        self._down = True

    def up(self) -> None:
        self._down = False

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (without processing), then behave normally;
        0 means process and record, then stall past the client's timeout."""
        with self._lock:
            self._forced.extend(statuses)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def keys(self) -> list[str]:
        with self._lock:
            return [d["idempotency_key"] for d in self.deliveries]

    # -- the app --------------------------------------------------------------------------------
    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        @app.api_route("/{path:path}", methods=["POST", "PUT", "DELETE", "PATCH"])
        async def receive(path: str, request: Request) -> Response:
            return await self._handle("/" + path, request)

        return app

    async def _handle(self, path: str, request: Request) -> Response:
        arrived = time.time()
        body = await request.body()
        request_key = request.headers.get(IDEMPOTENCY_HEADER)
        entry = {"method": request.method, "path": path, "request_key": request_key, "arrived": arrived}
        ok = verify_signature(
            self.secret, request.headers.get(TIMESTAMP_HEADER), body, request.headers.get(SIGNATURE_HEADER)
        )
        if not ok:
            self._note(entry, 401)
            return Response(status_code=401, content=b'{"error":"bad signature"}')
        with self._lock:
            forced = self._forced.pop(0) if self._forced else None
            fail_roll, timeout_roll = self._rng.random(), self._rng.random()
        stall = forced == 0 or (forced is None and timeout_roll < self.timeout_rate)
        status = 503 if self._down else (forced or None)
        if status is None and not stall and fail_roll < self.fail_rate:
            status = self.fail_status or (500 if fail_roll < self.fail_rate / 2 else 503)
        if status is not None and status >= 400:
            self._note(entry, status, rejected=True)
            headers = {}
            if self.retry_after is not None and status in (429, 503):
                headers["Retry-After"] = str(self.retry_after)
            return Response(status_code=status, content=b'{"error":"injected"}', headers=headers)
        try:
            payload = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            self._note(entry, 400)
            return Response(status_code=400, content=b'{"error":"body is not JSON"}')
        self._accept(entry, payload)
        if stall:
            self._note(entry, 0)  # 0: no answer before the client gave up
            await asyncio.sleep(self.timeout_s)
            return Response(status_code=200, content=b"{}")
        self._note(entry, 200)
        return Response(status_code=200, content=b'{"ok":true}', media_type="application/json")

    def _note(self, entry: dict[str, Any], status: int, rejected: bool = False) -> None:
        with self._lock:
            self.requests.append({**entry, "status": status})
            if rejected:
                self.rejected.append({**entry, "status": status})

    def _accept(self, entry: dict[str, Any], payload: Any) -> None:
        changes = payload.get("changes") if isinstance(payload, dict) else None
        records = []
        if isinstance(changes, list):  # the generic body: one record per change
            for c in changes:
                records.append(
                    {
                        "idempotency_key": c.get("idempotency_key"),
                        "action": c.get("action"),
                        "person_id": c.get("person_id"),
                        "fields": c.get("fields"),
                        "request_key": entry["request_key"],
                        "arrived": entry["arrived"],
                    }
                )
        with self._lock:
            self.deliveries.extend(records)
            self.bodies.setdefault(entry["path"], []).append({**entry, "json": payload})
            if self._record is not None:
                lines = records or [{**entry, "json": payload}]
                self._record.write(b"".join(orjson.dumps(r) + b"\n" for r in lines))

    # -- lifecycle ------------------------------------------------------------------------------
    def _socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        self._port = sock.getsockname()[1]
        return sock

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )

    def start(self) -> Receiver:
        sock = self._socket()
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"test receiver on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._record is not None:
            self._record.close()
            self._record = None

    def serve_forever(self) -> None:
        """The separate-process mode: serve in the foreground until interrupted."""
        sock = self._socket()
        print(f"receiver listening on {self.url}", flush=True)  # the caller may have asked for port 0
        try:
            uvicorn.Server(self._config()).run(sockets=[sock])
        finally:
            if self._record is not None:
                self._record.close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--record", default=None, help="append every delivery here as JSON lines")
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--timeout-rate", type=float, default=0.0)
    parser.add_argument("--timeout-s", type=float, default=12.0, help="stall this long on an injected timeout")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    receiver = Receiver(
        args.secret,
        fail_rate=args.fail_rate,
        timeout_rate=args.timeout_rate,
        timeout_s=args.timeout_s,
        seed=args.seed,
        record_path=args.record,
        port=args.port,
    )
    receiver.serve_forever()


if __name__ == "__main__":
    main()
