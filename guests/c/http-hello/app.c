// The HTTP hello behaviour: a `wasi:http/incoming-handler` against
// `wit-bindgen c` bindings for the weft:app/http-app world, made a component
// with the preview1 proxy adapter.
#include <string.h>

#include "http_app.h"

static const char GREETING[] = "Hello from weft serve!\n";

void exports_wasi_http_incoming_handler_handle(
    exports_wasi_http_incoming_handler_own_incoming_request_t request,
    exports_wasi_http_incoming_handler_own_response_outparam_t response_out) {
    wasi_http_types_incoming_request_drop_own(request);

    uint8_t content_type[] = "text/plain";
    wasi_http_types_tuple2_field_name_field_value_t header = {
        .f0 = {.ptr = (uint8_t *)"content-type", .len = strlen("content-type")},
        .f1 = {.ptr = content_type, .len = sizeof content_type - 1},
    };
    wasi_http_types_list_tuple2_field_name_field_value_t list = {.ptr = &header, .len = 1};
    wasi_http_types_own_fields_t headers;
    wasi_http_types_header_error_t header_error;
    if (!wasi_http_types_static_fields_from_list(&list, &headers, &header_error)) {
        __builtin_trap();
    }

    wasi_http_types_own_outgoing_response_t response =
        wasi_http_types_constructor_outgoing_response(headers);
    wasi_http_types_borrow_outgoing_response_t borrowed =
        wasi_http_types_borrow_outgoing_response(response);
    wasi_http_types_method_outgoing_response_set_status_code(borrowed, 200);
    wasi_http_types_own_outgoing_body_t body;
    if (!wasi_http_types_method_outgoing_response_body(borrowed, &body)) {
        __builtin_trap();
    }
    wasi_http_types_result_own_outgoing_response_error_code_t result = {
        .is_err = false,
        .val = {.ok = response},
    };
    wasi_http_types_static_response_outparam_set(response_out, &result);

    wasi_http_types_own_output_stream_t stream;
    if (!wasi_http_types_method_outgoing_body_write(wasi_http_types_borrow_outgoing_body(body), &stream)) {
        __builtin_trap();
    }
    http_app_list_u8_t contents = {.ptr = (uint8_t *)GREETING, .len = sizeof GREETING - 1};
    wasi_io_streams_stream_error_t stream_error;
    if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(
            wasi_io_streams_borrow_output_stream(stream), &contents, &stream_error)) {
        __builtin_trap();
    }
    wasi_io_streams_output_stream_drop_own(stream);
    wasi_http_types_error_code_t finish_error;
    if (!wasi_http_types_static_outgoing_body_finish(body, NULL, &finish_error)) {
        __builtin_trap();
    }
}
