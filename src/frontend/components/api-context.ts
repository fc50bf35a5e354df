import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ApiClient } from '../logic/api-client';

export const ApiContext = createContext<ApiClient | null>(null);

export function useApi(): ApiClient {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside <ApiContext.Provider>');
  return api;
}
