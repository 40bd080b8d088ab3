// string_check: compares the rendered input with the rendered reference. eq / ne: exact equality
// or inequality; like: the input contains the reference; ilike: the same, ignoring case. 1 or 0.

export type StringCheckOperation = 'eq' | 'ne' | 'like' | 'ilike'

export function stringCheck(input: string, reference: string, operation: StringCheckOperation): number {
  switch (operation) {
    case 'eq':
      return input === reference ? 1 : 0
    case 'ne':
      return input !== reference ? 1 : 0
    case 'like':
      return input.includes(reference) ? 1 : 0
    case 'ilike':
      return input.toLowerCase().includes(reference.toLowerCase()) ? 1 : 0
  }
}
