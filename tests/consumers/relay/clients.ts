// Operations a Relay app of a shop would write against its tenant: paginated lists both ways
// (@connection), refetchable fragments (Node and node(id:)), a plugin type, and a mutation
// that adds the new node to a connection. relay-compiler checks them against the tenant SDL
// (tests/tests/it/consumers.rs); relay-runtime itself is not needed to compile them.
import { graphql } from "relay-runtime";

export const list = graphql`
  query clientsListQuery($first: Int, $after: String) {
    ...clients_list @arguments(first: $first, after: $after)
  }
`;

export const forward = graphql`
  fragment clients_list on Query
  @refetchable(queryName: "clientsListPaginationQuery")
  @argumentDefinitions(first: { type: "Int", defaultValue: 20 }, after: { type: "String" }) {
    clients(first: $first, after: $after) @connection(key: "clients_list_clients") {
      edges { node { id ...clients_card } }
    }
  }
`;

export const backward = graphql`
  fragment clients_backward on Query
  @refetchable(queryName: "clientsBackwardPaginationQuery")
  @argumentDefinitions(last: { type: "Int", defaultValue: 20 }, before: { type: "String" }) {
    clients(last: $last, before: $before) @connection(key: "clients_backward_clients") {
      edges { node { id } }
    }
  }
`;

export const card = graphql`
  fragment clients_card on Client @refetchable(queryName: "clientsCardRefetchQuery") {
    id
    displayName
    customFields { shoeSize }
    pets { ...clients_pet }
  }
`;

export const pet = graphql`
  fragment clients_pet on Pet @refetchable(queryName: "clientsPetRefetchQuery") {
    id
    name
  }
`;

export const create = graphql`
  mutation clientsCreateMutation($input: CreateClientInput!, $connections: [ID!]!) {
    createClient(input: $input) {
      client @prependNode(connections: $connections, edgeTypeName: "ClientEdge") { id displayName }
      userErrors { field code message }
    }
  }
`;
