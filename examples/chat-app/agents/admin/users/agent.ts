import { Agent } from "ayjnt";

// Pinned id: the folder can move without touching Durable Object storage.
export const agentId = "admin_users_v1";

export default class AdminUsersAgent extends Agent<Env> {
  async onRequest(request: Request) {
    return Response.json({ users: [] });
  }
}
