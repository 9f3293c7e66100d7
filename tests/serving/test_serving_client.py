"""TF Serving client: request bodies, response parsing, and a REST round trip against a local canned server."""
import base64
import http.server
import json
import sys
import threading

import numpy as np
import pytest

import serving_test_models as stm
from integral_keras.serving import client


def test_rest_url():
    assert client.rest_url("localhost", 8501, "pose") == "http://localhost:8501/v1/models/pose:predict"
    assert client.rest_url("h", "9000", "pose", version=3) == "http://h:9000/v1/models/pose/versions/3:predict"


def test_bytes_body_encodes_images_and_boxes():
    png = stm.encode(stm.textured_image(30, 40))
    body = client.rest_bytes_body([png, png], boxes=[[1, 2, 3, 4], [5, 6, 7, 8]])
    assert body["signature_name"] == "serve_image_bytes"
    assert len(body["instances"]) == 2
    first = body["instances"][0]
    assert base64.b64decode(first["image_bytes"]["b64"]) == png
    assert first["box"] == [1.0, 2.0, 3.0, 4.0] and body["instances"][1]["box"] == [5.0, 6.0, 7.0, 8.0]
    json.dumps(body)  # serialisable as is


def test_bytes_body_defaults_to_whole_image_box():
    png = stm.encode(stm.textured_image(30, 40))
    (instance,) = client.rest_bytes_body([png])["instances"]
    assert instance["box"] == [-0.5, -0.5, 40.0, 30.0]
    with pytest.raises(ValueError, match="2 images but 1 boxes"):
        client.rest_bytes_body([png, png], boxes=[0, 0, 1, 1])
    with pytest.raises(ValueError, match="decode"):
        client.rest_bytes_body([b"nope"])


def test_images_body():
    images = np.arange(2 * 2 * 2 * 3, dtype=np.float32).reshape(2, 2, 2, 3)
    body = client.rest_images_body(images)
    assert body["signature_name"] == "serving_default"
    np.testing.assert_array_equal(np.asarray(body["instances"][1]["images"]), images[1])
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        client.rest_images_body(images[0])


def test_parse_row_and_columnar_responses():
    rows = {"predictions": [{"joints": [[1, 2], [3, 4]], "confidence": [0.5, 0.25]},
                            {"joints": [[5, 6], [7, 8]], "confidence": [1.0, 0.0]}]}
    parsed = client.parse_rest_response(json.dumps(rows))
    np.testing.assert_array_equal(parsed["joints"], [[[1, 2], [3, 4]], [[5, 6], [7, 8]]])
    np.testing.assert_array_equal(parsed["confidence"], [[0.5, 0.25], [1.0, 0.0]])
    columns = client.parse_rest_response({"outputs": {"joints": [[[1, 2]]], "confidence": [[0.5]]}})
    assert columns["joints"].shape == (1, 1, 2)
    with pytest.raises(client.ServingError, match="Invalid argument"):
        client.parse_rest_response({"error": "Invalid argument: box must be finite"})
    with pytest.raises(client.ServingError, match="neither"):
        client.parse_rest_response({"foo": 1})
    with pytest.raises(client.ServingError, match="not JSON"):
        client.parse_rest_response(b"<html>")


class _CannedServer:
    """A local HTTP server on 127.0.0.1 that answers up to `max_requests` POSTs with a canned body, then stops."""

    def __init__(self, status, response, max_requests=1):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                length = int(self.headers["Content-Length"])
                received.append((self.path, self.headers["Content-Type"], json.loads(self.rfile.read(length))))
                body = json.dumps(response).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 10  # handle_request gives up after this, so the thread always ends
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=lambda: [self.server.handle_request() for _ in range(max_requests)], daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.thread.join(timeout=15)
        self.server.server_close()


def test_rest_round_trip_against_a_canned_server():
    canned = {"predictions": [{"joints": [[10.5, 20.25], [30.0, 40.0]], "confidence": [0.9, 0.1]}]}
    png = stm.encode(stm.textured_image(16, 16))
    with _CannedServer(200, canned) as server:
        url = client.rest_url("127.0.0.1", server.port, "tiny")
        result = client.rest_predict(url, client.rest_bytes_body([png], [[1, 1, 8, 8]]), timeout=10)
    path, content_type, body = server.received[0]
    assert path == "/v1/models/tiny:predict" and content_type == "application/json"
    assert body["signature_name"] == "serve_image_bytes" and body["instances"][0]["box"] == [1, 1, 8, 8]
    np.testing.assert_allclose(result["joints"], [[[10.5, 20.25], [30.0, 40.0]]])
    np.testing.assert_allclose(result["confidence"], [[0.9, 0.1]])


def test_rest_http_error_carries_the_serving_message():
    with _CannedServer(400, {"error": "Invalid argument: image_bytes: empty string"}) as server:
        with pytest.raises(client.ServingError, match="HTTP 400.*empty string"):
            client.rest_predict(client.rest_url("127.0.0.1", server.port, "tiny"), {"instances": []}, timeout=10)


def test_unreachable_server_is_a_serving_error():
    with _CannedServer(200, {}, max_requests=0) as server:
        port = server.port
    # Closed now: the connection is refused.
    with pytest.raises(client.ServingError, match="Cannot reach"):
        client.rest_predict(client.rest_url("127.0.0.1", port, "tiny"), {"instances": []}, timeout=5)


def test_silent_server_times_out_as_a_serving_error():
    with _CannedServer(200, {}, max_requests=0) as server:
        # The socket listens but nobody answers.
        with pytest.raises(client.ServingError, match="timed out"):
            client.rest_predict(client.rest_url("127.0.0.1", server.port, "tiny"), {"instances": []}, timeout=1)


def test_grpc_without_serving_api_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_serving", None)
    monkeypatch.setitem(sys.modules, "tensorflow_serving.apis", None)
    with pytest.raises(ImportError, match="tensorflow-serving-api"):
        client.grpc_bytes_request("tiny", [b"x"], [[0, 0, 1, 1]])
