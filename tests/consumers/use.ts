// Uses the types graphql-codegen generated from the tenant's SDL (schema.ts) and for
// operations/*.graphql (operations.ts); `tsc --noEmit --strict` fails when they do not fit.
import type { ClientsPageQuery, ClientsPageQueryVariables, ViewerQuery } from "./operations";
import type { ClientCustomFields, Pet } from "./schema";

export const firstPage: ClientsPageQueryVariables = { first: 10 };

export function lines(page: ClientsPageQuery): string[] {
  return page.clients.nodes.map((client) => {
    const size: number | null | undefined = client.customFields.shoeSize;
    const pets: string[] = client.pets.map((pet) => `${pet.name ?? "?"} (${pet.sex ?? "-"})`);
    return `${client.id} ${client.displayName} ${size ?? ""} ${pets.join(", ")}`;
  });
}

export function next(page: ClientsPageQuery): ClientsPageQueryVariables | null {
  const info = page.clients.pageInfo;
  return info.hasNextPage && info.endCursor ? { first: 10, after: info.endCursor } : null;
}

export function who(viewer: ViewerQuery): string {
  return viewer.viewer ? `${viewer.viewer.user?.email ?? "token"} (${viewer.viewer.role})` : "anonymous";
}

// The tenant's own schema types: its custom field and its plugin's collection.
export function shoeSize(fields: Pick<ClientCustomFields, "shoeSize">): number {
  return fields.shoeSize ?? 0;
}

export function petName(pet: Pick<Pet, "name" | "createdAt">): string {
  return `${pet.name ?? "?"} since ${pet.createdAt}`;
}
