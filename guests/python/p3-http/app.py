"""A WASI 0.3 HTTP service in Python (componentize-py, world
`weft:app-p3/http-app`): `handle` is async, and the body is written through
a 0.3 stream by a task the handler spawns.

Paths: `/wait/MS` awaits the monotonic clock for MS milliseconds before it
answers; `/count` answers how many requests this instance has taken (weft
reuses 0.3 instances); `/trap` raises, which componentize-py turns into a
trap; anything else is greeted.
"""

import componentize_py_async_support
import wit_world
from componentize_py_types import Ok
from wit_world import exports
from wit_world.imports import monotonic_clock
from wit_world.imports.wasi_http_types import Fields, Request, Response

taken = 0


async def write_body(tx, body: bytes) -> None:
    with tx:
        await tx.write_all(body)


def respond(body: str) -> Response:
    tx, rx = wit_world.byte_stream()
    componentize_py_async_support.spawn(write_body(tx, body.encode()))
    _, trailers = wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
        lambda: Ok(None)
    )
    response, _ = Response.new(Fields.from_list([("content-type", b"text/plain")]), rx, trailers)
    return response


class Handler(exports.Handler):
    async def handle(self, request: Request) -> Response:
        global taken
        taken += 1
        path = request.get_path_with_query() or "/"
        if path.startswith("/wait/"):
            ms = int(path[len("/wait/"):])
            await monotonic_clock.wait_for(ms * 1_000_000)
            return respond(f"waited {ms} ms\n")
        if path == "/count":
            return respond(f"{taken}\n")
        if path == "/trap":
            raise RuntimeError("the handler was asked to trap")
        return respond("Hello from a WASI 0.3 service in Python!\n")
