// The HTTP hello behaviour: a `wasi:http/incoming-handler` that answers
// every request with a greeting, written against the wasi:http types.
import { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } from "wasi:http/types@0.2.12";

export const incomingHandler = {
  handle(request, responseOut) {
    const headers = Fields.fromList([["content-type", new TextEncoder().encode("text/plain")]]);
    const response = new OutgoingResponse(headers);
    response.setStatusCode(200);
    const body = response.body();
    ResponseOutparam.set(responseOut, { tag: "ok", val: response });
    const stream = body.write();
    stream.blockingWriteAndFlush(new TextEncoder().encode("Hello from weft serve!\n"));
    stream[Symbol.dispose]();
    OutgoingBody.finish(body, undefined);
  },
};
