"""A session of the Python `gql` client (PyPI) against a live Clientele tenant, as a customer's
own tooling would run it: introspect the schema, page a connection to its end, upload a file
with a GraphQL multipart request and download it back through its signed link.

Usage: gql_session.py BASE_URL TOKEN CLIENT_ID EXPECTED_CLIENTS
Prints one JSON line with what it saw; exits non-zero on any mismatch.
"""

import io
import json
import sys
from urllib.parse import urljoin

import requests
from gql import Client, FileVar, GraphQLRequest
from gql.transport.requests import RequestsHTTPTransport

PAGE = """
query Page($after: String) {
  clients(first: 2, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id displayName customFields { shoeSize } pets { name } }
  }
}
"""

UPLOAD = """
mutation Upload($i: UploadFileInput!) {
  uploadFile(input: $i) {
    file { id fileName contentType size sha256 url }
    userErrors { field code message }
  }
}
"""


def main() -> None:
    base, token, client_id, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    headers = {"Authorization": f"Bearer {token}"}
    transport = RequestsHTTPTransport(url=f"{base}/graphql", headers=headers, timeout=30)
    # The schema comes from the server's introspection; every document below is then
    # validated against it by the client before it is sent.
    client = Client(transport=transport, fetch_schema_from_transport=True)
    with client as session:
        schema = client.schema
        assert schema is not None, "no schema from introspection"
        custom = schema.get_type("ClientCustomFields")
        assert "shoeSize" in custom.fields, "the tenant's custom field is in its schema"
        assert schema.get_type("Pet") is not None, "the tenant's plugin types are in its schema"

        seen, after, pages = [], None, 0
        while True:
            page = session.execute(GraphQLRequest(PAGE, variable_values={"after": after}))["clients"]
            pages += 1
            seen.extend(node["id"] for node in page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == len(set(seen)) == page["totalCount"] == expected, (seen, page["totalCount"])

        content = "Carnet de santé de Rex\nvaccin: rage, 2026-03-01\n".encode()
        upload = FileVar(io.BytesIO(content), filename="rex.txt", content_type="text/plain")
        variables = {"i": {"clientId": client_id, "kind": "ATTACHMENT", "file": upload}}
        payload = session.execute(GraphQLRequest(UPLOAD, variable_values=variables), upload_files=True)
        payload = payload["uploadFile"]
        assert payload["userErrors"] == [], payload
        stored = payload["file"]
        assert stored["size"] == len(content) and stored["fileName"] == "rex.txt", stored

    download = requests.get(urljoin(base + "/", stored["url"]), timeout=30)
    assert download.status_code == 200, download.status_code
    assert download.content == content, "the downloaded bytes are the uploaded ones"
    print(json.dumps({"types": len(schema.type_map), "pages": pages, "clients": len(seen), "file": stored["id"]}))


if __name__ == "__main__":
    main()
