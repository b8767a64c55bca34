"""Every /api/v1 answer that is not a success is JSON, whatever went wrong, and the methods and bodies
the API does not take are refused before anything runs."""

import json

import pytest

from signalpost.status.models import Incident


def _json(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return json.loads(response.content)


def test_an_unknown_endpoint_is_a_json_404(reader, page):
    response = reader.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert "detail" in _json(response)


def test_an_unknown_object_is_a_json_404(reader, page):
    response = reader.get("/api/v1/incidents/nosuchid")
    assert response.status_code == 404
    assert _json(response)["detail"] == 'no incident with id "nosuchid"'


def test_a_method_a_route_does_not_take_is_a_json_405(client, make_token, page):
    response = client.put("/api/v1/incidents", b"{}", content_type="application/json",
                          headers={"Authorization": f"Bearer {make_token('admin')}"})
    assert response.status_code == 405
    assert "not allowed" in _json(response)["detail"]
    assert {"GET", "HEAD", "POST"} <= {m.strip() for m in response["Allow"].split(",")}


def test_trace_is_refused(client, page):
    response = client.generic("TRACE", "/api/v1/incidents")
    assert response.status_code == 405
    assert "TRACE" in _json(response)["detail"]


def test_head_answers_like_get_without_a_body(client, make_token, incident):
    headers = {"Authorization": f"Bearer {make_token('read')}"}
    got = client.get("/api/v1/incidents", headers=headers)
    head = client.head("/api/v1/incidents", headers=headers)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head["Content-Type"] == got["Content-Type"]
    assert int(head["Content-Length"]) == len(got.content)
    assert client.head("/api/v1/incidents").status_code == 401  # as GET: the token is checked


@pytest.mark.parametrize("content_type,body", [
    ("text/plain", b'{"name": "Down"}'),
    ("application/x-www-form-urlencoded", b"name=Down"),
    ("application/xml", b"<incident><name>Down</name></incident>"),
])
def test_a_body_that_is_not_json_is_refused_with_415(client, make_token, components, content_type, body):
    response = client.post("/api/v1/incidents", body, content_type=content_type,
                           headers={"Authorization": f"Bearer {make_token('write')}"})
    assert response.status_code == 415, response.content
    assert _json(response)["errors"] == [{"field": "Content-Type", "message": "must be application/json"}]
    assert not Incident.objects.exists()


def test_json_with_a_charset_is_json(client, make_token, components):
    response = client.post("/api/v1/incidents", b'{"name": "Down"}', content_type="application/json; charset=utf-8",
                           headers={"Authorization": f"Bearer {make_token('write')}"})
    assert response.status_code == 201


def test_a_10_mb_body_is_refused_with_413(client, make_token, components):
    body = json.dumps({"name": "Down", "body": "x" * 10_000_000}).encode()
    response = client.post("/api/v1/incidents", body, content_type="application/json",
                           headers={"Authorization": f"Bearer {make_token('write')}"})
    assert response.status_code == 413
    assert _json(response)["errors"][0]["field"] == "body"
    assert not Incident.objects.exists()


def test_an_unexpected_failure_is_a_json_500(client, make_token, components, monkeypatch):
    from signalpost.api import operations

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(operations, "get_status", broken)
    client.raise_request_exception = False
    response = client.get("/api/v1/status", headers={"Authorization": f"Bearer {make_token('read')}"})
    assert response.status_code == 500
    assert "a bug" not in response.content.decode()
    assert "detail" in _json(response)


def test_a_database_that_cannot_be_reached_is_a_503_with_retry_after(start_server, tmp_path):
    # A real server whose database is a file in a directory that does not exist.
    server = start_server(worker=False, ready=None, DATABASE_URL=f"sqlite:///{tmp_path}/missing/db.sqlite3")
    status, headers, body = server.request("GET", "/api/v1/incidents", headers={"Authorization": "Bearer x"})
    assert status == 503, body
    assert headers["content-type"].startswith("application/json")
    assert int(headers["retry-after"]) > 0
    assert "database" in json.loads(body)["detail"]


def test_the_openapi_document_says_what_is_accepted(client):
    document = client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["IncidentIn"]["properties"]["name"]["minLength"] == 1
    assert schemas["ComponentIn"]["properties"]["position"]["anyOf"][0]["maximum"] == 2**31 - 1
    post = document["paths"]["/api/v1/incidents"]["post"]
    [key] = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["schema"]["maxLength"] == 200 and key["schema"]["minLength"] == 1 and key["schema"]["pattern"]
    listing = document["paths"]["/api/v1/incidents"]["get"]["parameters"]
    until = next(p for p in listing if p["name"] == "until")
    assert "date-time" in json.dumps(until["schema"]) and "2200" in json.dumps(until)
    page = next(p for p in listing if p["name"] == "page")
    assert page["schema"]["maximum"] == 1_000_000


def test_a_chunked_body_is_read(start_server, make_token, components):
    server = start_server(worker=False)
    token = make_token("write")
    body = json.dumps({"name": "Chunked", "body": "y" * 5000}).encode()
    status, headers, answer = server.request("POST", "/api/v1/incidents", body, chunked=True, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": "chunked-1"})
    assert status == 201, answer
    assert json.loads(answer)["updates"][0]["body"] == "y" * 5000
    assert Incident.objects.get().name == "Chunked"


def test_a_chunked_body_above_the_limit_is_a_413(start_server, make_token, components):
    server = start_server(worker=False)
    body = json.dumps({"name": "Big", "body": "z" * 3_000_000}).encode()
    status, headers, answer = server.request("POST", "/api/v1/incidents", body, chunked=True, headers={
        "Authorization": f"Bearer {make_token('write')}", "Content-Type": "application/json"})
    assert status == 413, answer
    assert headers["content-type"].startswith("application/json")
    assert not Incident.objects.exists()


def test_a_real_server_answers_unstorable_paths_with_a_404(start_server, page):
    server = start_server(worker=False)
    for path in ["/incidents/%00", "/maintenance/%00x", "/incidents/%ED%A0%80", "/history/%00",
                 "/api/v1/incidents/%00", "/incidents/x?q=%00"]:
        status, headers, body = server.request("GET", path, headers={"Authorization": "Bearer x"})
        assert status in (400, 404), (path, body)
