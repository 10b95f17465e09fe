import { Normalizer, snakeCase } from '../../src/streams/normalize';

describe('record normalization', () => {
  it('snake_cases top-level keys with the project rule', () => {
    expect(snakeCase('pipelineVersionNumber')).toBe('pipeline_version_number');
    expect(snakeCase('id')).toBe('id');
    expect(snakeCase('already_snake')).toBe('already_snake');
  });

  it('keeps nested objects exactly as the API sent them', () => {
    const n = new Normalizer(['id', 'task_parameters']);
    const nested = { camelKey: { deeperKey: 1 }, list: [{ aB: 2 }] };
    expect(n.normalize({ id: 'x', taskParameters: nested })).toEqual({
      id: 'x',
      task_parameters: nested,
    });
  });

  it('fills every schema property the API omitted with null', () => {
    const n = new Normalizer(['id', 'pipeline_name', 'completed_at']);
    expect(n.normalize({ id: 'x' })).toEqual({ id: 'x', pipeline_name: null, completed_at: null });
  });

  it('passes unknown top-level fields through, snake_cased', () => {
    const n = new Normalizer(['id']);
    expect(n.normalize({ id: 'x', brandNewField: true })).toEqual({
      id: 'x',
      brand_new_field: true,
    });
  });
});
