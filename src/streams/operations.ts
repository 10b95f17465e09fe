import { OrchestraStream, StreamContext } from './stream';

/** GET /operations: cursor inserted_at (operations have no updatedAt); nothing to re-fetch. */
export class Operations extends OrchestraStream {
  constructor(ctx: StreamContext) {
    super(ctx, 'operations');
  }
}
