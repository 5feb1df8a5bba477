// The `integrations` namespace of the SDK: test fixtures that stand in for the flag service.
import type { DataSourceFactory } from '../api/dataSource.js';
import { callableWithoutNew } from './callable.js';
import {
  FileDataSourceFactory as FileDataSourceFactoryClass,
  type FileDataSourceOptions,
} from './fileDataSource.js';
import { TestData as TestDataClass } from './testData.js';

export { FileDataError } from './fileData.js';
export type { FileDataSourceOptions } from './fileDataSource.js';
export { TestDataFlagBuilder } from './testDataFlagBuilder.js';
export { TestDataRuleBuilder } from './testDataRuleBuilder.js';
export type { YamlParser } from './yamlLoader.js';

/** In-code flag data for tests: `new TestData()` as in v9, or `TestData()` as in v7. */
export const TestData = /* @__PURE__ */ callableWithoutNew(TestDataClass, () => new TestDataClass());
export type TestData = TestDataClass;

/**
 * Flag data from local files: `new FileDataSourceFactory(options).getFactory()` as in v9, or
 * `FileDataSourceFactory(options)`, which returns the data source factory directly.
 */
export const FileDataSourceFactory = /* @__PURE__ */ callableWithoutNew(
  FileDataSourceFactoryClass,
  (options: FileDataSourceOptions): DataSourceFactory => new FileDataSourceFactoryClass(options).getFactory(),
);
export type FileDataSourceFactory = FileDataSourceFactoryClass;
