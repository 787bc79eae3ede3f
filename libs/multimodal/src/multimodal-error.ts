/** A client's image could not be used; `reason` says why in words a client can act on. */
export class MultimodalError extends Error {
  constructor(
    readonly reason: 'bad_source' | 'too_large' | 'undecodable' | 'bad_geometry' | 'too_many',
    message: string,
  ) {
    super(message);
    this.name = 'MultimodalError';
  }
}
