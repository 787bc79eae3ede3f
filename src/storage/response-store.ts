/**
 * Where the Responses API keeps stored responses (for `previous_response_id` and GET). In memory
 * by default (bounded, LRU); Redis when `--redis-url` is set, so every gateway node in a mesh
 * sees every stored response.
 */
export interface StoredResponse {
  id: string;
  /** Id of the API key that made it: only that key can read, continue or delete it. */
  owner: string;
  model: string;
  createdAt: number;
  /** The whole conversation up to and including this response's output, as chat messages. */
  conversation: { role: 'system' | 'user' | 'assistant' | 'tool'; content: string | null; tool_calls?: unknown[]; tool_call_id?: string; reasoning_content?: string }[];
  /** The response object as returned to the client. */
  body: Record<string, unknown>;
}

export interface ResponseStore {
  put(response: StoredResponse): Promise<void>;
  get(id: string): Promise<StoredResponse | undefined>;
  delete(id: string): Promise<boolean>;
  close(): Promise<void>;
}

export class MemoryResponseStore implements ResponseStore {
  private readonly items = new Map<string, StoredResponse>();

  constructor(private readonly maxEntries = 10_000) {}

  async put(response: StoredResponse): Promise<void> {
    this.items.delete(response.id);
    this.items.set(response.id, response);
    while (this.items.size > this.maxEntries) this.items.delete(this.items.keys().next().value as string);
  }

  async get(id: string): Promise<StoredResponse | undefined> {
    const found = this.items.get(id);
    if (found) {
      // Refresh recency: Map iteration order is insertion order, so re-insert.
      this.items.delete(id);
      this.items.set(id, found);
    }
    return found;
  }

  async delete(id: string): Promise<boolean> {
    return this.items.delete(id);
  }

  async close(): Promise<void> {}
}
